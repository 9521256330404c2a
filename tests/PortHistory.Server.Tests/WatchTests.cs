// Over 250 lines: the cases share one two-silo cluster and its webhook receiver (most of their cost).
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// Two silos of one cluster on a PostgreSQL of their own, with RFC 1060 imported, a webhook receiver in this process
/// (it refuses its first delivery), and tokens for an agent and a reader.
/// </summary>
public sealed class WatchCluster : IAsyncLifetime
{
    public const string Secret = "watch-test-secret-of-at-least-32-bytes";
    public const uint WebhookPorts = 40000;

    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), $"porthistory-webhook-{Guid.NewGuid():N}");

    public PostgresServer Postgres { get; private set; } = null!;

    public ServerProcess A { get; private set; } = null!;

    public ServerProcess B { get; private set; } = null!;

    public WebhookReceiver Receiver { get; } = new();

    public string AgentToken { get; private set; } = "";

    public string ReaderToken { get; private set; } = "";

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_secretFile, Secret + "\n");
        Receiver.Start();
        Postgres = await PostgresServer.StartAsync();
        ConnectionString = Postgres.ConnectionString("watch");
        var settings = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "watch",
            // Cluster TLS has tests of its own; these silos share loopback only.
            ["PortHistory__Silo__AllowInsecureCluster"] = "true",
            ["PortHistory__Watch__PollInterval"] = "00:00:00.500",
            ["PortHistory__Watch__RetentionInterval"] = "00:00:01",
            ["PortHistory__Watch__TokenCheckInterval"] = "00:00:00.200",
            ["PortHistory__Watch__Webhook__Url"] = Receiver.Url,
            ["PortHistory__Watch__Webhook__SecretFile"] = _secretFile,
            ["PortHistory__Watch__Webhook__Ports__0"] = $"{WebhookPorts}-{WebhookPorts + 99}",
            ["PortHistory__Watch__Webhook__FirstRetryDelay"] = "00:00:00.200",
            ["PortHistory__Verdicts__CheckpointInterval"] = "00:00:01",
        };
        A = new ServerProcess(ConnectionString, settings);
        await A.StartAsync();
        B = new ServerProcess(ConnectionString, settings);
        await B.StartAsync();
        await EditionUpload.ImportAsync(A.Channel, RegistryData.PathOf("rfc1060.txt"));
        var access = new AccessAdmin.AccessAdminClient(A.Channel);
        AgentToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "watch agent", Role = Role.Agent })).Token;
        ReaderToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "watch reader", Role = Role.Reader })).Token;
    }

    public async Task DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
        await Postgres.DisposeAsync();
        Receiver.Dispose();
        File.Delete(_secretFile);
    }
}

/// <summary>A webhook receiver: records every delivery, answers 500 to the first and 200 afterwards.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly int _port = PostgresServer.FreePort();

    public string Url => $"http://127.0.0.1:{_port}/hook/";

    public ConcurrentQueue<(int Status, byte[] Body, string? Signature, string? Timestamp, string? EventIds)> Deliveries { get; } = new();

    public void Start()
    {
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var status = Deliveries.IsEmpty ? 500 : 200;
                Deliveries.Enqueue((status, body.ToArray(), context.Request.Headers["X-PortHistory-Signature"],
                    context.Request.Headers["X-PortHistory-Timestamp"], context.Request.Headers["X-PortHistory-Event-Ids"]));
                context.Response.StatusCode = status;
                context.Response.Close();
            }
        });
    }

    public void Dispose() => _listener.Close();
}

/// <summary>
/// The watch feed against two real silos: what happens through one silo is seen on a stream opened on the other; a
/// stream opened again after its last cursor gets exactly what it missed; a caller that stops reading holds up no
/// ingest and later resumes from its cursor; the webhook gets each event, retried after a failure, signed.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class WatchTests(WatchCluster cluster) : IClassFixture<WatchCluster>
{
    [Fact]
    public async Task A_new_process_a_ghosts_first_listener_verdict_changes_and_an_import_raised_on_B_arrive_on_a_stream_opened_on_A()
    {
        using var readerA = cluster.A.ChannelWith(() => cluster.ReaderToken);
        using var agentB = cluster.B.ChannelWith(() => cluster.AgentToken);
        using var stream = new ObservationsService.ObservationsClient(readerA).Watch(new WatchRequest { Ports = { new PortRange { First = 0, Last = 1023 } } });
        var events = new EventReader(stream.ResponseStream);
        await events.PositionAsync();

        // Twelve hosts run rpc.statd on 776/udp, which RFC 1060 lists as a convention only: a new process, unregistered.
        await ReportAsync(agentB, Enumerable.Range(1, 12).Select(h => Sighting($"watch-{h}", 776, Transport.Udp, "rpc.statd")));
        var statd = await events.UntilAsync(e => e.Kind == WatchEventKind.NewProcess && e.Port == 776);
        // Announced when it counts on enough hosts: the hosts' scans reach the port one flush or more at a time.
        Assert.Equal(("rpc.statd", Transport.Udp), (statd.ProcessName, statd.Transport));
        Assert.InRange(statd.DistinctHosts, 3ul, 12ul);
        await events.UntilAsync(e => e is { Kind: WatchEventKind.VerdictChanged, Port: 776, NewVerdict: VerdictKind.Unregistered });

        // With twelve reporting hosts known on both silos, an assigned port nobody runs is a ghost: its first listener.
        var ghost = await GhostAsync();
        await ReportAsync(agentB, [Sighting("watch-1", ghost.Port, ghost.Verdict.Transport, "listener")]);
        var listener = await events.UntilAsync(e => e.Kind == WatchEventKind.GhostListener);
        Assert.Equal((ghost.Port, ghost.Verdict.Transport, VerdictKind.Ghost), (listener.Port, listener.Transport, listener.OldVerdict));
        await events.UntilAsync(e => e.Kind == WatchEventKind.VerdictChanged && e.Port == ghost.Port && e.OldVerdict == VerdictKind.Ghost);

        // RFC 1340 assigns 776/udp to wpages: the import (through B) changes the assignment and makes rpc.statd a squatter.
        await Eventually.Async(() => DiscrepanciesAsync(cluster.A.Channel, VerdictKind.Unregistered), d => d.Discrepancies.Any(x => x.Port == 776));
        await EditionUpload.ImportAsync(cluster.B.Channel, RegistryData.PathOf("rfc1340.txt"));
        var assignment = await events.UntilAsync(e => e.Kind == WatchEventKind.AssignmentChanged && e.Port == 776 && e.Transport == Transport.Udp);
        Assert.Equal(("", "wpages"), (assignment.OldService, assignment.NewService));
        var squatter = await events.UntilAsync(e => e is { Kind: WatchEventKind.VerdictChanged, Port: 776, NewVerdict: VerdictKind.Squatter });
        Assert.Equal(VerdictKind.Unregistered, squatter.OldVerdict);

        Assert.Equal(events.Seen.Count, events.Seen.Select(e => e.EventId).Distinct().Count());
        Assert.True(events.Seen.Zip(events.Seen.Skip(1)).All(p => p.First.Cursor < p.Second.Cursor), "cursors increase");
    }

    [Fact]
    public async Task A_process_no_host_reports_any_more_is_announced_gone_left_out_of_the_verdict_and_announced_again_when_it_returns()
    {
        const uint finger = 79;
        using var readerA = cluster.A.ChannelWith(() => cluster.ReaderToken);
        using var agentB = cluster.B.ChannelWith(() => cluster.AgentToken);
        using var stream = new ObservationsService.ObservationsClient(readerA).Watch(new WatchRequest
        {
            Ports = { new PortRange { First = finger, Last = finger } }, Transports = { Transport.Tcp },
        });
        var events = new EventReader(stream.ResponseStream);
        await events.PositionAsync();

        // Hosts of this case's own (the others' hosts have scans of their own, later than this one's first).
        var fingerHosts = Enumerable.Range(1, 12).Select(h => $"finger-{h}").ToList();
        // Twelve hosts ran oldfingerd on finger's port at their scan ten minutes ago; their next scan, now, lists only a
        // listener elsewhere. The hosts are online: the process is gone (not the hosts).
        var earlier = DateTime.UtcNow.AddMinutes(-10);
        await ReportAsync(agentB, fingerHosts.Select(h => Sighting(h, finger, Transport.Tcp, "oldfingerd", observedAt: earlier)));
        var born = await events.UntilAsync(e => e.Kind == WatchEventKind.NewProcess);
        // A scan is known complete when the next one starts: the second scan's absences count at the third.
        var rescanned = DateTime.UtcNow.AddSeconds(-2);
        await ReportAsync(agentB, fingerHosts.Select(h => Sighting(h, 41000, Transport.Tcp, "current", observedAt: rescanned)));
        await ReportAsync(agentB, fingerHosts.Select(h => Sighting(h, 41000, Transport.Tcp, "current", observedAt: rescanned.AddSeconds(1))));

        var gone = await events.UntilAsync(e => e.Kind == WatchEventKind.ProcessGone);
        Assert.Equal(("oldfingerd", 12ul), (gone.ProcessName, gone.DistinctHosts));
        Assert.InRange(gone.LastSeen.ToDateTime(), earlier.AddMilliseconds(-1), rescanned.AddSeconds(1).AddMilliseconds(1));
        Assert.True(born.Cursor < gone.Cursor, "announced new before gone");
        var ghost = await events.UntilAsync(e => e is { Kind: WatchEventKind.VerdictChanged, NewVerdict: VerdictKind.Ghost });
        // From squatter; or through insufficient evidence, when the hosts' removals reach the port in more than one
        // delivery and the last one or two hosts run it alone for a moment.
        Assert.Contains(ghost.OldVerdict, new[] { VerdictKind.Squatter, VerdictKind.InsufficientEvidence });

        // Asked on the other silo: still listed, as gone, and the verdict speaks of what runs now.
        var registry = new PortRegistry.PortRegistryClient(readerA);
        var port = await registry.GetPortAsync(new GetPortRequest { Port = finger, Transport = Transport.Tcp });
        Assert.True(Assert.Single(Assert.Single(port.Observed.Transports).Processes).Gone);
        Assert.Equal(VerdictKind.Ghost, Assert.Single(port.Verdicts).Kind);

        // Three hosts (the privacy floor) run it again: a new life (a new event id), a first listener on the ghost, and a
        // squatter again.
        await ReportAsync(agentB, fingerHosts.Take(3).Select(h => Sighting(h, finger, Transport.Tcp, "oldfingerd", observedAt: DateTime.UtcNow)));
        var again = await events.UntilAsync(e => e.Kind == WatchEventKind.NewProcess && e.Cursor > gone.Cursor);
        Assert.NotEqual(born.EventId, again.EventId);
        await events.UntilAsync(e => e.Kind == WatchEventKind.GhostListener && e.Cursor > gone.Cursor);
        // (Through insufficient evidence while fewer than three hosts' scans have reached the port.)
        await events.UntilAsync(e => e is { Kind: WatchEventKind.VerdictChanged, NewVerdict: VerdictKind.Squatter } && e.Cursor > gone.Cursor);
        port = await registry.GetPortAsync(new GetPortRequest { Port = finger, Transport = Transport.Tcp });
        Assert.False(Assert.Single(Assert.Single(port.Observed.Transports).Processes).Gone);
        Assert.Equal(events.Seen.Count, events.Seen.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task A_stream_opened_again_after_its_last_cursor_gets_exactly_the_events_it_missed()
    {
        using var readerA = cluster.A.ChannelWith(() => cluster.ReaderToken);
        using var agentB = cluster.B.ChannelWith(() => cluster.AgentToken);
        var client = new ObservationsService.ObservationsClient(readerA);
        var range = new PortRange { First = 30000, Last = 30099 };
        ulong cursor;
        using (var stream = client.Watch(new WatchRequest { Ports = { range } }))
        {
            var events = new EventReader(stream.ResponseStream);
            await events.PositionAsync();
            await ReportAsync(agentB, Hosts(3).Select(h => Sighting(h, 30001, Transport.Tcp, "first")));
            cursor = (await events.UntilAsync(e => e.Kind == WatchEventKind.NewProcess && e.Port == 30001)).Cursor;
        }

        // Disconnected: more happens meanwhile.
        await ReportAsync(agentB, Hosts(3).SelectMany(h => new[] { Sighting(h, 30002, Transport.Tcp, "second"), Sighting(h, 30003, Transport.Udp, "third") }));
        var missed = await Eventually.Async(() => RaisedAsync((long)cursor, 30000, 30099),
            ids => ids.Count(i => i.Key.StartsWith("process:", StringComparison.Ordinal)) == 2);

        using var again = client.Watch(new WatchRequest { Ports = { range }, AfterCursor = cursor });
        var resumed = new EventReader(again.ResponseStream);
        await resumed.PositionAsync();
        while (resumed.Seen.Count < missed.Count) await resumed.NextAsync();

        Assert.Equal(missed.Select(m => (ulong)m.Id), resumed.Seen.Select(e => e.Cursor));
        Assert.All(resumed.Seen, e => Assert.True(e.Cursor > cursor));
        Assert.Equal(new[] { "second", "third" }, resumed.Seen.Where(e => e.Kind == WatchEventKind.NewProcess).Select(e => e.ProcessName).Order());
    }

    [Fact]
    public async Task A_caller_that_stops_reading_holds_up_no_ingest_and_resumes_from_its_cursor()
    {
        const uint port = 31000;
        const int processes = 3000, Ports = 100;
        using var readerA = cluster.A.ChannelWith(() => cluster.ReaderToken);
        using var agentB = cluster.B.ChannelWith(() => cluster.AgentToken);
        var client = new ObservationsService.ObservationsClient(readerA);
        var filter = new WatchRequest { Ports = { new PortRange { First = port, Last = port + Ports - 1 } } };
        ulong start;
        using (var probe = client.Watch(filter))
        {
            start = (await new EventReader(probe.ResponseStream).PositionAsync()).Cursor;
        }

        // Opened and never read while thousands of events (about 1 MB of them) are raised.
        var resume = filter.Clone();
        resume.AfterCursor = start;
        using var stalled = client.Watch(resume);
        // One scan of three hosts (its batches share the scan's time), each running every process.
        // Spread over a hundred ports: a port lists at most 32 processes per transport.
        var scanned = DateTime.UtcNow.AddSeconds(-5);
        var sightings = Enumerable.Range(0, processes)
            .SelectMany(p => Hosts(3).Select(h => Sighting(h, port + (uint)(p % Ports), Transport.Tcp, $"p{p:D5}", observedAt: scanned))).ToList();
        foreach (var batch in sightings.Chunk(4500))
        {
            var result = await new Sightings.SightingsClient(agentB).ReportBatchAsync(Batch(batch), deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Equal((uint)batch.Length, result.Accepted);
        }

        var raised = await Eventually.Async(() => RaisedAsync((long)start, (int)port, (int)port + Ports - 1),
            r => r.Count(e => e.Key.StartsWith("process:", StringComparison.Ordinal)) == processes);

        // Reading now, it gets every event after its start, once each.
        var late = new EventReader(stalled.ResponseStream);
        Assert.Equal(start, (await late.PositionAsync()).Cursor);
        while (late.Seen.Count < raised.Count) await late.NextAsync();
        Assert.Equal(raised.Select(r => (ulong)r.Id), late.Seen.Select(e => e.Cursor));
    }

    [Fact]
    public async Task A_stream_whose_token_is_revoked_on_the_other_silo_ends_unauthenticated()
    {
        var reader = await new AccessAdmin.AccessAdminClient(cluster.A.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "watch to revoke", Role = Role.Reader });
        using var readerB = cluster.B.ChannelWith(() => reader.Token);
        using var stream = new ObservationsService.ObservationsClient(readerB).Watch(new WatchRequest());
        Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));

        await new AccessAdmin.AccessAdminClient(cluster.A.Channel).RevokeTokenAsync(new RevokeTokenRequest { TokenId = reader.Info.TokenId });

        // The stream ends by itself (position marks come every 30 s, so nothing else would end it) within the deadline.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext(deadline.Token))
            {
            }
        });
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
    }

    [Fact]
    public async Task The_webhook_gets_each_event_signed_again_after_its_receiver_failed()
    {
        using var agentA = cluster.A.ChannelWith(() => cluster.AgentToken);
        var port = WatchCluster.WebhookPorts + 1;
        await ReportAsync(agentA, Hosts(3).Select(h => Sighting(h, port, Transport.Tcp, "hooked")));

        // The port's events come as its hosts' scans reach it, in one delivery or several: until the new process is among them.
        var delivered = await Eventually.Async(() => Task.FromResult(cluster.Receiver.Deliveries.ToList()),
            d => d.Where(x => x.Status == 200).Any(x => x.EventIds?.Contains("process:", StringComparison.Ordinal) == true));
        Assert.Equal(500, delivered[0].Status);
        var accepted = delivered.First(d => d.Status == 200);
        // The batch refused is the batch sent again.
        Assert.Equal(delivered[0].EventIds, accepted.EventIds);
        foreach (var delivery in delivered)
        {
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WatchCluster.Secret), delivery.Body));
            Assert.Equal(expected, delivery.Signature);
            Assert.True(long.Parse(delivery.Timestamp!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        }

        var events = new List<JsonElement>();
        foreach (var delivery in delivered.Where(d => d.Status == 200))
        {
            var batch = JsonDocument.Parse(delivery.Body).RootElement.GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(delivery.EventIds, string.Join(',', batch.Select(e => e.GetProperty("eventId").GetString())));
            events.AddRange(batch);
        }

        Assert.All(events, e => Assert.InRange(e.GetProperty("port").GetUInt32(), WatchCluster.WebhookPorts, WatchCluster.WebhookPorts + 99));
        var process = Assert.Single(events, e => e.GetProperty("kind").GetString() == "WATCH_EVENT_KIND_NEW_PROCESS");
        Assert.Equal("hooked", process.GetProperty("processName").GetString());
    }

    [Fact]
    public async Task Events_past_the_retention_are_deleted_and_a_cursor_from_before_them_is_refused()
    {
        // Two events raised a month ago (retention keeps a week), on a port no other test watches.
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var old = new NpgsqlCommand("""
                INSERT INTO watch_events (event_key, kind, port, transport, event, raised_at)
                SELECT 'old:' || g, 1, 65000, 1, '\x'::bytea, now() - interval '30 days' FROM generate_series(1, 2) g
                """, connection);
            await old.ExecuteNonQueryAsync();
        }

        var horizon = await Eventually.Async(async () =>
        {
            await using var connection = new NpgsqlConnection(cluster.ConnectionString);
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT deleted_through, (SELECT count(*) FROM watch_events WHERE port = 65000) FROM watch_retention", connection);
            await using var reader = await read.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (Through: reader.GetInt64(0), Left: reader.GetInt64(1));
        }, r => r.Left == 0 && r.Through >= 2);

        using var readerA = cluster.A.ChannelWith(() => cluster.ReaderToken);
        using var stale = new ObservationsService.ObservationsClient(readerA).Watch(new WatchRequest { AfterCursor = (ulong)horizon.Through - 1 });
        var refused = await Assert.ThrowsAsync<RpcException>(() => stale.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OutOfRange, refused.StatusCode);
        Assert.StartsWith("after_cursor", refused.Status.Detail, StringComparison.Ordinal);

        // A cursor past every id given out would skip the events up to it: refused too.
        using var ahead = new ObservationsService.ObservationsClient(readerA).Watch(new WatchRequest { AfterCursor = long.MaxValue });
        var unknown = await Assert.ThrowsAsync<RpcException>(() => ahead.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OutOfRange, unknown.StatusCode);
        Assert.Contains("past the newest event", unknown.Status.Detail, StringComparison.Ordinal);
    }

    private static IEnumerable<string> Hosts(int count) => Enumerable.Range(1, count).Select(h => $"watch-{h}");

    private static async Task ReportAsync(GrpcChannel agent, IEnumerable<Sighting> sightings)
    {
        var batch = Batch(sightings);
        var result = await new Sightings.SightingsClient(agent).ReportBatchAsync(batch);
        Assert.Equal((uint)batch.Sightings.Count, result.Accepted);
    }

    private static Task<ListDiscrepanciesResponse> DiscrepanciesAsync(GrpcChannel channel, VerdictKind kind) =>
        ReadDiscrepanciesAsync(new ObservationsService.ObservationsClient(channel).ListDiscrepancies(new ListDiscrepanciesRequest
        {
            Verdicts = { kind }, Range = new PortRange { First = 1, Last = 1023 },
        }));

    private static async Task<ListDiscrepanciesResponse> ReadDiscrepanciesAsync(AsyncServerStreamingCall<ListDiscrepanciesResponse> call)
    {
        using (call)
        {
            var all = new ListDiscrepanciesResponse();
            await foreach (var page in call.ResponseStream.ReadAllAsync())
            {
                all.ReportingHosts = page.ReportingHosts;
                all.Discrepancies.AddRange(page.Discrepancies);
            }

            return all;
        }
    }

    /// <summary>A ghost once both silos count the twelve reporting hosts (each judges with its own count).</summary>
    private async Task<Discrepancy> GhostAsync()
    {
        foreach (var silo in new[] { cluster.A, cluster.B })
        {
            await Eventually.Async(() => DiscrepanciesAsync(silo.Channel, VerdictKind.Ghost), d => d.ReportingHosts >= 12 && d.Discrepancies.Count > 0);
        }

        var ghosts = await DiscrepanciesAsync(cluster.A.Channel, VerdictKind.Ghost);
        return ghosts.Discrepancies.First(d => d.Port != 776);
    }

    /// <summary>What the event log holds after a cursor for a port range: the ground truth a stream must deliver.</summary>
    private async Task<IReadOnlyList<(long Id, string Key)>> RaisedAsync(long after, int first, int last)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, event_key FROM watch_events WHERE id > @after AND port BETWEEN @first AND @last ORDER BY id", connection);
        command.Parameters.AddWithValue("after", after);
        command.Parameters.AddWithValue("first", first);
        command.Parameters.AddWithValue("last", last);
        var rows = new List<(long, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), reader.GetString(1)));
        return rows;
    }

    /// <summary>Reads a watch stream with a deadline per message; keeps the events seen.</summary>
    private sealed class EventReader(IAsyncStreamReader<WatchResponse> stream)
    {
        // For the whole test: position marks keep coming while the awaited event does not.
        private readonly DateTime _deadline = DateTime.UtcNow.AddSeconds(90);

        public List<WatchEvent> Seen { get; } = [];

        public async Task<WatchResponse> PositionAsync()
        {
            var first = await ReadAsync();
            Assert.Null(first.Event);
            return first;
        }

        public async Task<WatchEvent> NextAsync()
        {
            while (true)
            {
                var response = await ReadAsync();
                if (response.Event is null) continue;
                Assert.Equal(response.Cursor, response.Event.Cursor);
                Seen.Add(response.Event);
                return response.Event;
            }
        }

        /// <summary>The first event seen (before or from now on) that is wanted: events of one change may come in either order.</summary>
        public async Task<WatchEvent> UntilAsync(Func<WatchEvent, bool> wanted)
        {
            if (Seen.FirstOrDefault(wanted) is { } seen) return seen;
            while (true)
            {
                var e = await NextAsync();
                if (wanted(e)) return e;
            }
        }

        private async Task<WatchResponse> ReadAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(1, (_deadline - DateTime.UtcNow).Ticks)));
            Assert.True(await stream.MoveNext(timeout.Token), "the stream ended");
            return stream.Current;
        }
    }
}
