using Grpc.Core;
using PortHistory.Contracts.V1;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// SIGKILL at random moments while an agent streams batches: every acknowledged sighting is counted exactly once in
/// the end, because acknowledgement waits for the journal and a retried batch id is not counted again.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class SightingKillTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Killing_the_server_repeatedly_loses_and_doubles_nothing_that_was_acknowledged()
    {
        var server = await SightingsServer.StartAsync(fixture.Postgres, "kill");
        await using var _ = server;
        var random = new Random(20261123);
        var ports = new uint[] { 22, 80, 443, 776, 771, 5432, 6379, 30100 };
        var batches = Enumerable.Range(0, 240).Select(b => Batch(Enumerable.Range(0, 50).Select(i =>
            Sighting($"host-{random.Next(40)}", ports[random.Next(ports.Length)], i % 3 == 0 ? Transport.Udp : Transport.Tcp,
                $"proc-{random.Next(5)}", observedAt: DateTime.UtcNow.AddMinutes(-random.Next(60)).AddTicks(b * 1000 + i))))).ToList();

        var acknowledged = new Dictionary<string, uint>();
        var agent = Task.Run(async () =>
        {
            // An agent sends its unacknowledged batches, ten to a stream, and retries them (same ids) until acknowledged.
            while (acknowledged.Count < batches.Count)
            {
                var group = batches.Where(b => !acknowledged.ContainsKey(b.BatchId)).Take(10).ToList();
                try
                {
                    using var call = new Sightings.SightingsClient(server.Agent).Report(deadline: DateTime.UtcNow.AddSeconds(30));
                    foreach (var batch in group) await call.RequestStream.WriteAsync(batch);
                    await call.RequestStream.CompleteAsync();
                    foreach (var result in (await call.ResponseAsync).Batches) acknowledged[result.BatchId] = result.Accepted;
                }
                catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
                {
                    await Task.Delay(50);
                }
            }
        });

        for (var kill = 0; kill < 3; kill++)
        {
            await Task.WhenAny(agent, Task.Delay(random.Next(300, 1500)));
            await server.Server.KillAsync();
            await server.Server.StartAsync();
        }

        await agent.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.All(batches, b => Assert.Equal(50u, acknowledged[b.BatchId]));

        var expected = batches.SelectMany(b => b.Sightings).GroupBy(s => (s.Port, s.Transport)).ToDictionary(g => g.Key, g => (ulong)g.Count());
        var observations = new ObservationsService.ObservationsClient(server.Admin);
        foreach (var ((port, transport), count) in expected)
        {
            var observed = await SightingsServer.EventuallyAsync(
                () => observations.GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport }).ResponseAsync,
                r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings >= count);
            Assert.Equal(count, observed.Observed.Transports[0].Sightings);
        }

        // And once more after a clean restart: what the grains checkpointed plus the journal gives the same totals.
        await server.Server.KillAsync();
        await server.Server.StartAsync();
        foreach (var ((port, transport), count) in expected)
        {
            var observed = await observations.GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport });
            Assert.Equal(count, observed.Observed.Transports[0].Sightings);
        }
    }
}
