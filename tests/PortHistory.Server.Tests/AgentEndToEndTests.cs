using PortHistory.Agent;
using PortHistory.Contracts.V1;
using ObservationsService = PortHistory.Contracts.V1.Observations;

namespace PortHistory.Server.Tests;

/// <summary>The fleet agent, scanning this machine, against a real server (a server of its own: it adds a reporting host).</summary>
[Collection(ServerCollection.Name)]
public sealed class AgentEndToEndTests(RegistryServerFixture fixture)
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
        var exit = await AgentApp.RunAsync(
            ["--server", server.Server.Address, "--token", server.AgentToken, "--host-ref", hostRef, "--once"], output, error, CancellationToken.None);
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
}
