using System.Text;
using Grpc.Core;
using Grpc.Health.V1;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>Two silos of one cluster following a local mirror that stands in for IANA, on a PostgreSQL of their own.</summary>
public sealed class FollowCluster : IAsyncLifetime
{
    public PostgresServer Postgres { get; private set; } = null!;

    public RegistryMirror Mirror { get; } = new();

    public ServerProcess A { get; private set; } = null!;

    public ServerProcess B { get; private set; } = null!;

    public string AgentToken { get; private set; } = "";

    public string ReaderToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Mirror.StartAsync();
        Postgres = await PostgresServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "follow",
            // Two silos on one machine: cluster TLS is tested elsewhere (ClusterTlsTests).
            ["PortHistory__Silo__AllowInsecureCluster"] = "true",
            ["PortHistory__Follow__Enabled"] = "true",
            ["PortHistory__Follow__Sources__0"] = Mirror.Url,
            ["PortHistory__Follow__Interval"] = "00:00:00.500",
            ["PortHistory__Follow__CheckInterval"] = "00:00:00.100",
            ["PortHistory__Follow__FirstRetryDelay"] = "00:00:00.100",
            // Long enough for a real edition's body on a machine busy with other tests; the mirror's "no answer" waits it out once.
            ["PortHistory__Follow__Timeout"] = "00:00:05",
            // The newest real edition is of 2026-08-17: older than a day by the time this runs, so following reports degraded.
            ["PortHistory__Follow__StaleAfter"] = "1.00:00:00",
            ["PortHistory__Verdicts__CheckpointInterval"] = "00:00:00.500",
        };
        A = new ServerProcess(Postgres.ConnectionString("follow"), settings);
        B = new ServerProcess(Postgres.ConnectionString("follow"), settings);
        await A.StartAsync();
        await B.StartAsync();
        var access = new AccessAdmin.AccessAdminClient(A.Channel);
        AgentToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "follow agent", Role = Role.Agent })).Token;
        ReaderToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "follow reader", Role = Role.Reader })).Token;
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
        await Postgres.DisposeAsync();
        await Mirror.DisposeAsync();
    }
}

/// <summary>
/// Following the registry end to end: a version the mirror serves becomes one edition, with its URL and ETag; 304s,
/// an HTML error page, a truncated body and no answer at all import nothing; the next real version does, and the
/// port it changes raises its watch event by itself. One silo fetches at a time, and the other takes over when it dies.
/// The mirror serves the System Ports of two real IANA XML editions (<see cref="RegistryData.SystemPortsOf"/>): what is
/// tested is how versions arrive, and each whole file would stage 49,152 ports.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class FollowingTests(FollowCluster cluster) : IClassFixture<FollowCluster>
{
    private const string Older = "service-names-port-numbers_2024-04-30.xml";
    private const string Newer = "service-names-port-numbers_2026-08-17.xml";

    [Fact]
    public async Task One_edition_per_real_change_nothing_from_bad_answers_a_watch_event_for_a_changed_port_and_one_fetcher_at_a_time()
    {
        var mirror = cluster.Mirror;
        var registry = new PortRegistry.PortRegistryClient(cluster.A.Channel);
        mirror.Serve(RegistryData.SystemPortsOf(Older), "\"older\"");
        var first = await EditionsAsync(registry, 1);
        Assert.Equal(("iana-xml-2024-04-30", mirror.Url, "\"older\""), (first[0].Id, first[0].Origin, first[0].Etag));
        Assert.NotNull(first[0].RetrievedAt);

        // compressnet holds 2/tcp in this edition; four hosts run something there, so the port is watched (its first
        // judgement, announced as a new process, records what is assigned).
        using var reader = cluster.A.ChannelWith(() => cluster.ReaderToken);
        using var stream = new ObservationsService.ObservationsClient(reader).Watch(new WatchRequest
        {
            Ports = { new PortRange { First = 2, Last = 2 } }, Kinds = { WatchEventKind.NewProcess, WatchEventKind.AssignmentChanged },
        });
        using var agent = cluster.B.ChannelWith(() => cluster.AgentToken);
        await new Sightings.SightingsClient(agent).ReportBatchAsync(Batch(Enumerable.Range(1, 4).Select(h => Sighting($"follow-{h}", 2, Transport.Tcp, "compressd"))));
        Assert.Equal(WatchEventKind.NewProcess, (await NextEventAsync(stream.ResponseStream)).Kind);

        // Unchanged (304), an error page served with 200, a body cut short, no answer: nothing is imported.
        var before = mirror.Requests.Count(r => r.Status == 304);
        await Eventually.Async(() => Task.FromResult(mirror.Requests.Count(r => r.Status == 304)), n => n >= before + 3);
        mirror.ServeHtmlErrorPage();
        await mirror.AnsweredAsync(RegistryMirror.AnswerKind.HtmlErrorPage, 2);
        mirror.ServeTruncated(RegistryData.SystemPortsOf(Newer));
        await mirror.AnsweredAsync(RegistryMirror.AnswerKind.Truncated, 2);
        mirror.ServeNoAnswer();
        await mirror.AnsweredAsync(RegistryMirror.AnswerKind.NoAnswer, 1);
        Assert.Single((await registry.ListEditionsAsync(new ListEditionsRequest())).Editions);

        // The next real version: one new edition, and 2/tcp's assignment change is announced with no import call.
        mirror.Serve(RegistryData.SystemPortsOf(Newer), "\"newer\"");
        var both = await EditionsAsync(registry, 2);
        Assert.Equal(["iana-xml-2024-04-30", "iana-xml-2026-08-17"], both.Select(e => e.Id));
        Assert.True(both[1].Changes > 0);
        var changed = await NextEventAsync(stream.ResponseStream);
        Assert.Equal((WatchEventKind.AssignmentChanged, 2u, Transport.Tcp, "compressnet"), (changed.Kind, changed.Port, changed.Transport, changed.OldService));

        // One silo fetched, never two at once; the refusals are in its log with their reasons.
        Assert.Equal(1, mirror.MaxInFlight);
        var (holder, other) = cluster.A.LogLines("queued for import").Count > 0 ? (cluster.A, cluster.B) : (cluster.B, cluster.A);
        Assert.Equal(2, holder.LogLines("queued for import").Count);
        Assert.Empty(other.LogLines("queued for import"));
        Assert.NotEmpty(holder.LogLines("an HTML page, not a registry edition"));
        Assert.NotEmpty(holder.LogLines("no answer within 5 s"));

        // Following is its own health service: degraded (NOT_SERVING) while the newest edition is older than StaleAfter; the server itself serves.
        var health = new Health.HealthClient(cluster.A.AnonymousChannel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing,
            (await health.CheckAsync(new HealthCheckRequest { Service = "porthistory.registry.following" })).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        await health.CheckAsync(new HealthCheckRequest { Service = "porthistory.registry.following" });

        // What an operator reads: following's turn to degraded once (not an error for each run of the check), each
        // fetch's outcome in the follower's own line (not the HTTP client's lines and stack traces), and on a fresh
        // database no table read before the schema was there.
        Assert.Single(cluster.A.LogLines("Health check registry-following is unhealthy"));
        foreach (var silo in new[] { cluster.A, cluster.B })
        {
            Assert.Empty(silo.LogLines("DefaultHealthCheckService"));
            Assert.Empty(silo.LogLines("System.Net.Http.HttpClient"));
            Assert.Empty(silo.LogLines("does not exist"));
        }

        // The fetcher dies: the other silo takes over. A version that differs only in its date is recorded, as changing nothing.
        await holder.KillAsync();
        var redated = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(RegistryData.SystemPortsOf(Newer)).Replace("<updated>2026-08-17</updated>", "<updated>2026-08-24</updated>",
            StringComparison.Ordinal));
        mirror.Serve(redated, "\"redated\"");
        var third = await EditionsAsync(new PortRegistry.PortRegistryClient(other.Channel), 3);
        Assert.Equal(("iana-xml-2026-08-24", 0u), (third[2].Id, third[2].Changes));
        Assert.Single(other.LogLines("queued for import"));
    }

    private async Task<IReadOnlyList<EditionSummary>> EditionsAsync(PortRegistry.PortRegistryClient registry, int count)
    {
        try
        {
            return (await Eventually.Async(() => registry.ListEditionsAsync(new ListEditionsRequest()).ResponseAsync, r => r.Editions.Count >= count,
                TimeSpan.FromSeconds(300))).Editions;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{count} edition(s) did not appear; silo A's log:\n{cluster.A.Log}\nsilo B's log:\n{cluster.B.Log}", e);
        }
    }

    private static async Task<WatchEvent> NextEventAsync(IAsyncStreamReader<WatchResponse> stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await stream.MoveNext(timeout.Token))
        {
            if (stream.Current.Event is { } e) return e;
        }

        throw new InvalidOperationException("the watch stream ended");
    }
}
