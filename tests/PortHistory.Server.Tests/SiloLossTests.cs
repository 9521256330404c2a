using System.Diagnostics;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// Silos leave under load and callers do not notice: a silo of two killed (SIGKILL) while readers ask the other
/// gateway fails no read and loses none of the sightings it acknowledged; three silos restarted one after the other
/// while readers and an agent use the gateways that are up fail no read and count every sighting once.
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

    [Fact]
    public async Task A_rolling_restart_of_three_silos_fails_no_read_and_loses_no_sighting()
    {
        var connectionString = fixture.Postgres.ConnectionString("rolling");
        var clustered = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "rolling",
        };
        var silos = new List<ServerProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var silo = new ServerProcess(connectionString, clustered);
                await silo.StartAsync();
                silos.Add(silo);
            }

            var agentToken = (await new AccessAdmin.AccessAdminClient(silos[0].Channel).IssueTokenAsync(new IssueTokenRequest { Name = "agent", Role = Role.Agent })).Token;
            // Readers and one agent use whichever gateways are up: a gateway is taken out of their list before its silo
            // stops and put back once its successor serves, as a load balancer with health checks does.
            var up = new List<ServerProcess>(silos);
            // Calls under way per gateway: one leaves the list, then its calls finish, then it stops.
            var calling = new System.Collections.Concurrent.ConcurrentDictionary<ServerProcess, int>();
            ServerProcess Pick()
            {
                lock (up)
                {
                    var gateway = up[Random.Shared.Next(up.Count)];
                    calling.AddOrUpdate(gateway, 1, (_, n) => n + 1);
                    return gateway;
                }
            }

            void Done(ServerProcess gateway) => calling.AddOrUpdate(gateway, 0, (_, n) => n - 1);
            using var stop = new CancellationTokenSource();
            var failures = new List<string>();
            var reads = 0L;
            var readers = Enumerable.Range(0, Readers).Select(reader => Task.Run(async () =>
            {
                var port = 1u + (uint)reader * 50;
                while (!stop.IsCancellationRequested)
                {
                    var gateway = Pick();
                    try
                    {
                        var answer = await new PortRegistry.PortRegistryClient(gateway.Channel).GetPortAsync(Question(port), deadline: DateTime.UtcNow.AddSeconds(30));
                        if (answer.Port != port) lock (failures) failures.Add($"port {port} answered as {answer.Port}");
                        Interlocked.Increment(ref reads);
                    }
                    catch (RpcException e)
                    {
                        lock (failures) failures.Add($"port {port}: {e.StatusCode} {e.Status.Detail}");
                    }
                    finally
                    {
                        Done(gateway);
                    }

                    port = port % Ports + 1;
                }
            })).ToList();

            // Until the roll is over, batches of one sighting for each of 20 ports (hosts taken in turn from 100), through the
            // gateways that are up; a batch refused while a silo goes is sent again with the same id, as the agent does.
            using var rolled = new CancellationTokenSource();
            var batches = 0;
            var reported = Task.Run(async () =>
            {
                for (var b = 0; b < 5 || !rolled.IsCancellationRequested; b++)
                {
                    var batch = FleetSimulator.Batch(Enumerable.Range(0, 20).Select(i => FleetSimulator.Sighting($"host-{b % 100}", 3001u + (uint)i, Transport.Tcp, "daemon")));
                    while (true)
                    {
                        var gateway = Pick();
                        try
                        {
                            using var agent = gateway.ChannelWith(() => agentToken);
                            await new Sightings.SightingsClient(agent).ReportBatchAsync(batch, deadline: DateTime.UtcNow.AddSeconds(30));
                            break;
                        }
                        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                        {
                            // Sent again with the same batch id (the server counts it once); the pause is the agent's backoff.
                            await Task.Delay(100);
                        }
                        finally
                        {
                            Done(gateway);
                        }
                    }

                    batches = b + 1;
                }
            });

            for (var i = 0; i < silos.Count; i++)
            {
                var before = Interlocked.Read(ref reads);
                await SightingsServer.EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref reads)), n => n > before + 200);
                lock (up) up.Remove(silos[i]);
                var leaving = silos[i];
                await SightingsServer.EventuallyAsync(() => Task.FromResult(calling.GetValueOrDefault(leaving)), n => n == 0);
                await silos[i].StopAsync();
                await silos[i].DisposeAsync();
                silos[i] = new ServerProcess(connectionString, clustered);
                await silos[i].StartAsync();
                lock (up) up.Add(silos[i]);
            }

            await rolled.CancelAsync();
            await reported;
            var afterRoll = Interlocked.Read(ref reads);
            await SightingsServer.EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref reads)), n => n > afterRoll + 200);
            await stop.CancelAsync();
            await Task.WhenAll(readers);
            Assert.True(failures.Count == 0, $"{failures.Count} of {reads + failures.Count} reads failed:\n{string.Join('\n', failures.Take(20))}");

            // Every acknowledged sighting is counted, once.
            var observations = new PortHistory.Contracts.V1.Observations.ObservationsClient(silos[0].Channel);
            for (var port = 3001u; port <= 3020; port++)
            {
                var observed = await SightingsServer.EventuallyAsync(
                    () => observations.GetObservedAsync(new GetObservedRequest { Port = port }).ResponseAsync,
                    r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings >= (ulong)batches);
                Assert.Equal(((ulong)batches, (ulong)Math.Min(batches, 100)), (observed.Observed.Transports[0].Sightings, observed.Observed.Transports[0].DistinctHosts));
            }
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    private static GetPortRequest Question(uint port) => new() { Port = port, Transport = Transport.Tcp };
}
