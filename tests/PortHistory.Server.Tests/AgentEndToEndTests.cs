using System.Globalization;
using Npgsql;
using PortHistory.Agent;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>The fleet agent, scanning this machine, against a real server (a server of its own: it adds a reporting host).</summary>
[Collection(OwnServerCollection.Name)]
public sealed class AgentEndToEndTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private Task<SightingsServer> Server => resources.SharedAsync("agent", () => SightingsServer.StartAsync(fixture.Postgres, "agent"));

    [Fact]
    public async Task The_agent_reports_what_listens_on_this_machine()
    {
        // Something this test process holds, on a port no one else uses.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = (uint)((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var hostRef = $"agent-test-{Guid.NewGuid():N}";

        using var output = new StringWriter();
        using var error = new StringWriter();
        var server = await Server;
        var spool = Directory.CreateTempSubdirectory("porthistory-agent-spool-");
        var exit = await AgentApp.RunAsync(
            ["--server", server.Server.Address, "--token", server.AgentToken, "--host-ref", hostRef, "--once", "--spool-dir", spool.FullName],
            output, error, CancellationToken.None);
        Assert.True(exit == 0, $"agent exit {exit}: {output}{error}");

        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var response = await SightingsServer.EventuallyAsync(
            () => observed.GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp }).ResponseAsync,
            r => r.Observed.Transports.Count == 1);
        var process = Assert.Single(response.Observed.Transports[0].Processes);
        Assert.Equal([hostRef], process.HostRefs);
        // One online host, listening on loopback only.
        Assert.Equal((1ul, 0ul), (process.OnlineHosts, process.ReachableHosts));

        // Retired on the server, its epoch is forgotten: the agent's next run is answered RESYNC, sends a snapshot, and
        // the host is online again with what it runs.
        var hosts = new Hosts.HostsClient(server.Admin);
        Assert.Equal(HostLiveness.Retired, (await hosts.RetireHostAsync(new RetireHostRequest { HostRef = hostRef, Reason = "test" })).Host.State);
        var again = await AgentApp.RunAsync(
            ["--server", server.Server.Address, "--token", server.AgentToken, "--host-ref", hostRef, "--once", "--spool-dir", spool.FullName],
            output, error, CancellationToken.None);
        Assert.True(again == 0, $"agent exit {again}: {output}{error}");
        var back = (await hosts.GetHostAsync(new GetHostRequest { HostRef = hostRef })).Host;
        Assert.Equal(HostLiveness.Online, back.State);
        Assert.True(back.Sockets > 0 && back.Differential, back.ToString());
        spool.Delete(recursive: true);
        Assert.Equal(System.Diagnostics.Process.GetCurrentProcess().ProcessName, process.ProcessName);
    }

    [Fact]
    public async Task Changes_made_while_the_server_is_down_and_across_an_agent_restart_arrive_once_in_order_with_the_time_they_were_made()
    {
        var first = Listen();
        var hostRef = $"agent-outage-{Guid.NewGuid():N}";
        // The journal is kept (no compaction) so that the time each change was made can be read back.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "agentoutage",
            new Dictionary<string, string> { ["PortHistory__Sightings__CompactionInterval"] = "01:00:00" });
        var spool = Directory.CreateTempSubdirectory("porthistory-agent-spool-");
        using var written = new StringWriter();
        var output = TextWriter.Synchronized(written);
        string[] agent = ["--server", server.Server.Address, "--token", server.AgentToken, "--host-ref", hostRef, "--spool-dir", spool.FullName];
        System.Net.Sockets.TcpListener? second = null, third = null;
        try
        {
            // Reporting while the server is up: the first listener, on one online host.
            var running = StartAgent();
            var observed = new ObservationsService.ObservationsClient(server.Admin);
            await SightingsServer.EventuallyAsync(() => OnlineHostsAsync(first), n => n == 1);

            // Down: the first listener stops and a second starts; the agent is restarted; a third starts.
            await server.Server.KillAsync();
            var down = DateTimeOffset.UtcNow;
            first.Stop();
            second = Listen();
            await Eventually.Async(() => Task.FromResult(SpoolRecords()), n => n >= 1);
            await running.Stop.CancelAsync();
            await running.Run;
            running = StartAgent();
            var before = SpoolRecords();
            third = Listen();
            await Eventually.Async(() => Task.FromResult(SpoolRecords()), n => n > before);
            await running.Stop.CancelAsync();
            await running.Run;
            var back = DateTimeOffset.UtcNow;

            // Back: everything spooled is sent, in order.
            await server.Server.StartAsync();
            var exit = await AgentApp.RunAsync([.. agent, "--once"], output, output, CancellationToken.None);
            Assert.True(exit == AgentApp.Ok, written.ToString());
            Assert.Equal(0, SpoolRecords());

            Assert.Equal(0ul, await SightingsServer.EventuallyAsync(() => OnlineHostsAsync(first), n => n == 0));
            Assert.Equal(1ul, await OnlineHostsAsync(second));
            Assert.Equal(1ul, await OnlineHostsAsync(third));
            // Each listener started once, at the time the agent saw it (during the outage), not when it was sent.
            await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("agentoutage"));
            foreach (var listener in new[] { second, third })
            {
                await using var added = database.CreateCommand("SELECT count(*), min(changed_at) FROM listener_changes WHERE port = @port AND kind = 1 AND process_id > 0");
                added.Parameters.AddWithValue("port", Port(listener));
                await using var reader = await added.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.Equal(1L, reader.GetInt64(0));
                Assert.InRange(new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), down, back);
            }

            Task<ulong> OnlineHostsAsync(System.Net.Sockets.TcpListener listener) =>
                observed.GetObservedAsync(new GetObservedRequest { Port = (uint)Port(listener), Transport = Transport.Tcp }).ResponseAsync
                    .ContinueWith(t => t.Result.Observed.Transports.SingleOrDefault()?.OnlineHosts ?? 0, TaskScheduler.Default);
        }
        finally
        {
            first.Dispose();
            second?.Dispose();
            third?.Dispose();
            spool.Delete(recursive: true);
        }

        (Task<int> Run, CancellationTokenSource Stop) StartAgent()
        {
            var stop = new CancellationTokenSource();
            return (Task.Run(() => AgentApp.RunAsync([.. agent, "--interval", "1s"], output, output, stop.Token)), stop);
        }

        static System.Net.Sockets.TcpListener Listen()
        {
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }

        static int Port(System.Net.Sockets.TcpListener listener) => ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        long SpoolRecords()
        {
            var status = Path.Combine(spool.FullName, "status.prom");
            var line = File.Exists(status) ? File.ReadAllLines(status).FirstOrDefault(l => l.StartsWith("porthistory_agent_spool_records ", StringComparison.Ordinal)) : null;
            return line is null ? 0 : long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }
    }
}
