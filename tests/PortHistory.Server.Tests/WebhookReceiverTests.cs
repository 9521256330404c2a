using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// The webhook against receivers that misbehave or deliverers that die: a delivery survives a SIGKILL of the silo that
/// was making it (another silo posts the same events, signed), a redirect is not followed, the URL's path and query
/// stay out of the log, and a short secret stops the server at start.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class WebhookReceiverTests(PostgresFixture fixture)
{
    private const string Secret = "a-webhook-secret-of-more-than-32-bytes";

    [Fact]
    public async Task A_delivery_in_flight_when_its_silo_is_killed_is_made_by_another_silo_with_the_same_event_ids()
    {
        using var secretFile = new TemporaryFile(Secret);
        using var receiver = new ScriptedReceiver();
        receiver.HoldFirst = true;
        var connectionString = fixture.Postgres.ConnectionString("hookfailover");
        var settings = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "hook-failover",
            ["PortHistory__Silo__AllowInsecureCluster"] = "true",
            ["PortHistory__Watch__PollInterval"] = "00:00:00.200",
            ["PortHistory__Watch__Webhook__Url"] = receiver.Url,
            ["PortHistory__Watch__Webhook__SecretFile"] = secretFile.Path,
            ["PortHistory__Watch__Webhook__Timeout"] = "00:05:00",
            ["PortHistory__Watch__Webhook__FirstRetryDelay"] = "00:00:00.100",
        };
        await using var first = new ServerProcess(connectionString, settings);
        await first.StartAsync();
        // The first silo holds the delivery lock before the second starts: it is the one that posts.
        await Eventually.Async(() => DeliveryLocksAsync(connectionString), held => held == 1);
        await using var second = new ServerProcess(connectionString, settings);
        await second.StartAsync();

        var agent = (await new AccessAdmin.AccessAdminClient(first.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "agent", Role = Role.Agent })).Token;
        using var channel = first.ChannelWith(() => agent);
        await new Sightings.SightingsClient(channel).ReportBatchAsync(Batch(Enumerable.Range(1, 3).Select(h => Sighting($"hook-{h}", 41234, Transport.Tcp, "hookd"))));
        var held = await Eventually.Async(() => Task.FromResult(receiver.Deliveries.ToList()), d => d.Count >= 1);

        await first.KillAsync();

        var delivered = await Eventually.Async(() => Task.FromResult(receiver.Deliveries.ToList()), d => d.Any(x => x.Status == 200));
        var accepted = delivered.First(d => d.Status == 200);
        Assert.Subset(accepted.EventIds.ToHashSet(), held[0].EventIds.ToHashSet());
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), accepted.Body)), accepted.Signature);
        using var body = JsonDocument.Parse(accepted.Body);
        Assert.Equal(accepted.EventIds, body.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!).ToArray());
    }

    [Fact]
    public async Task A_redirect_is_not_followed_the_batch_is_posted_again_and_the_url_stays_out_of_the_log()
    {
        using var secretFile = new TemporaryFile(Secret);
        using var elsewhere = new ScriptedReceiver();
        using var receiver = new ScriptedReceiver { RedirectFirstTo = elsewhere.Url };
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("hookredirect"), new Dictionary<string, string>
        {
            ["PortHistory__Watch__PollInterval"] = "00:00:00.200",
            ["PortHistory__Watch__Webhook__Url"] = receiver.Url + "?key=url-secret-4711",
            ["PortHistory__Watch__Webhook__SecretFile"] = secretFile.Path,
            ["PortHistory__Watch__Webhook__FirstRetryDelay"] = "00:00:00.100",
        });
        await server.StartAsync();
        var agent = (await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "agent", Role = Role.Agent })).Token;
        using var channel = server.ChannelWith(() => agent);

        await new Sightings.SightingsClient(channel).ReportBatchAsync(Batch(Enumerable.Range(1, 3).Select(h => Sighting($"redirect-{h}", 41235, Transport.Tcp, "hookd"))));

        var delivered = await Eventually.Async(() => Task.FromResult(receiver.Deliveries.ToList()), d => d.Any(x => x.Status == 200));
        Assert.Equal((307, 200), (delivered[0].Status, delivered[1].Status));
        Assert.Equal(delivered[0].EventIds, delivered[1].EventIds);
        Assert.Empty(elsewhere.Deliveries);
        Assert.Contains("answered 307", server.Log);
        Assert.DoesNotContain("url-secret-4711", server.Log);
    }

    [Fact]
    public async Task A_secret_shorter_than_32_bytes_stops_the_server_at_start()
    {
        using var secretFile = new TemporaryFile("short-secret");
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("hookshort"), new Dictionary<string, string>
        {
            ["PortHistory__Watch__Webhook__Url"] = "http://127.0.0.1:9/hook",
            ["PortHistory__Watch__Webhook__SecretFile"] = secretFile.Path,
        });

        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("PortHistory:Watch:Webhook:SecretFile", server.Log);
        Assert.DoesNotContain("short-secret", server.Log);
    }

    private static async Task<long> DeliveryLocksAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // The webhook deliverer's session lock ("porthook" space) as pg_locks shows an advisory lock with two keys.
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::text::bigint = x'706f7274'::bigint " +
            "AND objid::text::bigint = (hashtext('default')::bigint & 4294967295)", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private sealed class TemporaryFile : IDisposable
    {
        public TemporaryFile(string text)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"porthistory-hook-{Guid.NewGuid():N}");
            File.WriteAllText(Path, text + "\n");
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }

    /// <summary>
    /// A webhook receiver that records every POST and answers 200, except as scripted: the first held unanswered (until
    /// disposed), or the first redirected.
    /// </summary>
    private sealed class ScriptedReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly CancellationTokenSource _stop = new();

        public ScriptedReceiver()
        {
            Url = $"http://127.0.0.1:{PostgresServer.FreePort()}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Url { get; }

        public bool HoldFirst { get; set; }

        public string? RedirectFirstTo { get; init; }

        public ConcurrentQueue<(int Status, byte[] Body, string? Signature, string[] EventIds)> Deliveries { get; } = new();

        private async Task ServeAsync()
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
                var first = Deliveries.IsEmpty;
                var status = first && HoldFirst ? 0 : first && RedirectFirstTo is not null ? 307 : 200;
                Deliveries.Enqueue((status, body.ToArray(), context.Request.Headers["X-PortHistory-Signature"],
                    (context.Request.Headers["X-PortHistory-Event-Ids"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)));
                if (status == 0) continue; // held: never answered
                if (status == 307) context.Response.RedirectLocation = RedirectFirstTo;
                context.Response.StatusCode = status;
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Close();
        }
    }
}
