using System.Globalization;
using Npgsql;
using PortHistory.Agent;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>The fleet agent, scanning this machine, against a real server (a server of its own: it adds a reporting host).</summary>
[Collection(OwnServerCollection.Name)]
public sealed class AgentEndToEndTests(PostgresFixture fixture)
{
    private Task<SightingsServer> Server => fixture.SharedAsync("agent", () => SightingsServer.StartAsync(fixture.Postgres, "agent"));

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
        spool.Delete(recursive: true);
        Assert.True(exit == 0, $"agent exit {exit}: {output}{error}");

        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var response = await SightingsServer.EventuallyAsync(
            () => observed.GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp }).ResponseAsync,
            r => r.Observed.Transports.Count == 1);
        var process = Assert.Single(response.Observed.Transports[0].Processes);
        Assert.Equal([hostRef], process.HostRefs);
        Assert.Equal(1ul, process.LoopbackSightings);
        Assert.Equal(System.Diagnostics.Process.GetCurrentProcess().ProcessName, process.ProcessName);
    }

    [Fact]
    public async Task Scans_made_while_the_server_is_down_and_across_an_agent_restart_arrive_once_with_the_time_they_were_made()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = (uint)((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var hostRef = $"agent-outage-{Guid.NewGuid():N}";
        // The journal is kept (no compaction) so that the time each sighting was made can be read back.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "agentoutage",
            new Dictionary<string, string> { ["PortHistory__Sightings__CompactionInterval"] = "01:00:00" });
        var spool = Directory.CreateTempSubdirectory("porthistory-agent-spool-");
        using var written = new StringWriter();
        var output = TextWriter.Synchronized(written);
        string[] agent = ["--server", server.Server.Address, "--token", server.AgentToken, "--host-ref", hostRef, "--spool-dir", spool.FullName];
        try
        {
            // Reporting while the server is up.
            var first = StartAgent();
            var observed = new ObservationsService.ObservationsClient(server.Admin);
            await SightingsServer.EventuallyAsync(() => SightingsAsync(), n => n >= 1);

            // Down for several scans; the agent is restarted in the middle.
            await server.Server.KillAsync();
            var down = DateTimeOffset.UtcNow;
            await Eventually.Async(() => Task.FromResult(SpoolRecords()), n => n >= 3);
            await first.Stop.CancelAsync();
            await first.Run;
            var second = StartAgent();
            var before = SpoolRecords();
            await Eventually.Async(() => Task.FromResult(SpoolRecords()), n => n >= before + 2);
            await second.Stop.CancelAsync();
            await second.Run;
            var back = DateTimeOffset.UtcNow;

            // Back: one more scan, and everything spooled is sent.
            await server.Server.StartAsync();
            var exit = await AgentApp.RunAsync([.. agent, "--once"], output, output, CancellationToken.None);
            Assert.True(exit == AgentApp.Ok, written.ToString());
            Assert.Equal(0, SpoolRecords());

            // Every scan (each saw this test's listener once) counted once.
            var scans = written.ToString().Split('\n').Count(line => line.StartsWith("scan: ", StringComparison.Ordinal));
            Assert.True(scans >= 6, written.ToString());
            Assert.Equal((ulong)scans, await SightingsServer.EventuallyAsync(() => SightingsAsync(), n => n >= (ulong)scans));
            // The sightings made during the outage carry the time they were made, not the time they were sent.
            await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("agentoutage"));
            await using var during = database.CreateCommand("SELECT count(*) FROM sighting_journal WHERE port = @port AND observed_at > @down AND observed_at < @back");
            during.Parameters.AddWithValue("port", (int)port);
            during.Parameters.AddWithValue("down", down);
            during.Parameters.AddWithValue("back", back);
            Assert.True((long)(await during.ExecuteScalarAsync())! >= 4, written.ToString());

            Task<ulong> SightingsAsync() => observed.GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp }).ResponseAsync
                .ContinueWith(t => t.Result.Observed.Transports.SingleOrDefault()?.Sightings ?? 0, TaskScheduler.Default);
        }
        finally
        {
            spool.Delete(recursive: true);
        }

        (Task<int> Run, CancellationTokenSource Stop) StartAgent()
        {
            var stop = new CancellationTokenSource();
            return (Task.Run(() => AgentApp.RunAsync([.. agent, "--interval", "1s"], output, output, stop.Token)), stop);
        }

        long SpoolRecords()
        {
            var status = Path.Combine(spool.FullName, "status.prom");
            var line = File.Exists(status) ? File.ReadAllLines(status).FirstOrDefault(l => l.StartsWith("porthistory_agent_spool_records ", StringComparison.Ordinal)) : null;
            return line is null ? 0 : long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }
    }
}
