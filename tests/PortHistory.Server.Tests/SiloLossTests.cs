using System.Diagnostics;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// A silo of two is killed (SIGKILL) while readers keep asking the other gateway about ports whose grains lived on
/// both: every read succeeds, the ones for the dead silo's grains once the cluster has placed them again.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SiloLossTests(RegistryServerFixture fixture)
{
    private const int Ports = 400;
    private const int Readers = 8;

    [Fact]
    public async Task Reads_through_a_surviving_gateway_never_fail_when_the_other_silo_dies()
    {
        var connectionString = fixture.Postgres.ConnectionString("siloloss");
        var clustered = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "silo-loss",
        };
        await using var survivor = new ServerProcess(connectionString, clustered);
        await survivor.StartAsync();
        await using var victim = new ServerProcess(connectionString, clustered);
        await victim.StartAsync();

        // Activate every port's grain once through each gateway: random placement puts about half on each silo.
        var client = new PortRegistry.PortRegistryClient(survivor.Channel);
        var viaVictim = new PortRegistry.PortRegistryClient(victim.Channel);
        for (var port = 1u; port <= Ports; port++)
        {
            await viaVictim.GetPortAsync(Question(port));
            await client.GetPortAsync(Question(port));
        }

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var reads = 0L;
        var killed = new TaskCompletionSource<TimeSpan>();
        var clock = Stopwatch.StartNew();
        var readers = Enumerable.Range(0, Readers).Select(reader => Task.Run(async () =>
        {
            var port = 1u + (uint)reader;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // Not the common question (a transport is named), so every read is a grain call.
                    var answer = await client.GetPortAsync(Question(port), deadline: DateTime.UtcNow.AddSeconds(30));
                    if (answer.Port != port) lock (failures) failures.Add($"port {port} answered as {answer.Port}");
                    Interlocked.Increment(ref reads);
                }
                catch (RpcException e)
                {
                    lock (failures) failures.Add($"port {port} at {clock.Elapsed.TotalSeconds:0.0} s: {e.StatusCode} {e.Status.Detail}");
                }

                port = port % Ports + 1;
            }
        })).ToList();

        // Reads are flowing; then the silo dies, and readers go on until the cluster has long settled.
        await SightingsServer.EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref reads)), n => n > 2 * Ports);
        await victim.KillAsync();
        var readsAtKill = Interlocked.Read(ref reads);
        await SightingsServer.EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref reads)), n => n > readsAtKill + 4 * Ports, TimeSpan.FromSeconds(90));
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.True(failures.Count == 0, $"{failures.Count} of {reads + failures.Count} reads failed:\n{string.Join('\n', failures.Take(20))}\n{survivor.Log}");
        Assert.True(Interlocked.Read(ref reads) > readsAtKill + 4 * Ports);
    }

    [Fact]
    public async Task Sightings_acknowledged_by_a_silo_that_dies_reach_every_port_within_15_seconds_of_its_death()
    {
        var connectionString = fixture.Postgres.ConnectionString("silodeathsweep");
        var clustered = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "silo-death-sweep",
        };
        await using var survivor = new ServerProcess(connectionString, clustered);
        await survivor.StartAsync();
        // It acknowledges, would hand the sightings to the grains only an hour later, and its writers' heartbeats
        // would time out only after the default minute: only the cluster's verdict on its death can bring them in time.
        await using var victim = new ServerProcess(connectionString, new Dictionary<string, string>(clustered) { ["PortHistory__Sightings__DispatchWindow"] = "01:00:00" });
        await victim.StartAsync();

        var observations = new PortHistory.Contracts.V1.Observations.ObservationsClient(survivor.Channel);
        var ports = Enumerable.Range(2001, 20).Select(p => (uint)p).ToList();
        // Every port's grain active before the sightings arrive, on either silo.
        foreach (var port in ports) await observations.GetObservedAsync(new GetObservedRequest { Port = port });

        var agentToken = (await new AccessAdmin.AccessAdminClient(survivor.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "agent", Role = Role.Agent })).Token;
        using var agent = victim.ChannelWith(() => agentToken);
        var sightings = ports.Select(p => FleetSimulator.Sighting("host-1", p, Transport.Tcp, "daemon"));
        Assert.Equal(20u, (await new Sightings.SightingsClient(agent).ReportBatchAsync(FleetSimulator.Batch(sightings))).Accepted);

        await victim.KillAsync();
        var sinceDeath = Stopwatch.StartNew();
        foreach (var port in ports)
        {
            await SightingsServer.EventuallyAsync(
                () => observations.GetObservedAsync(new GetObservedRequest { Port = port }).ResponseAsync,
                r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings == 1, TimeSpan.FromSeconds(60));
        }

        Assert.True(sinceDeath.Elapsed < TimeSpan.FromSeconds(15), $"the last acknowledged sighting was visible {sinceDeath.Elapsed.TotalSeconds:0.0} s after the silo's death\n{survivor.Log}");
    }

    private static GetPortRequest Question(uint port) => new() { Port = port, Transport = Transport.Tcp };
}
