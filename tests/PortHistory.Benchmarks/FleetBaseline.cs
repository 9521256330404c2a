using System.Diagnostics;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// The baseline: the same kind of fleet reporting every scan in full (ReportBatch, the agents before differential
/// reporting), on a server and database of its own so that it leaves nothing behind in the differential run. A
/// tenth of the hosts: the full fleet's sightings would saturate the machine, and the costs are per host.
/// </summary>
internal static class FleetBaseline
{
    public sealed record Outcome(int Hosts, FleetCost Cost, double BatchesPerSecond, double P50, double P99, long RetryAfters, long Errors);

    public static async Task<Outcome> RunAsync(PostgresServer postgres, FleetCatalog catalog, int hostCount, TimeSpan period, int periods, int concurrency)
    {
        await using var server = new ServerProcess(postgres.ConnectionString("fleet_full"), FleetBenchmark.Settings(period));
        await server.StartAsync();
        var issued = await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "fleet full reports", Role = Role.Agent });
        var channels = Enumerable.Range(0, 4).Select(_ => server.ChannelWith(() => issued.Token)).ToArray();
        var meter = new FleetMeter(server, postgres.ConnectionString("fleet_full"));
        var random = new Random(11);
        var sets = Enumerable.Range(0, hostCount).Select(_ => catalog.DrawSet(random, 40 + random.Next(21))).ToArray();
        using var slots = new SemaphoreSlim(concurrency);
        var latencies = new List<double>();
        long batches = 0, retryAfters = 0, errors = 0;
        FleetReading? from = null;
        var started = DateTime.UtcNow;
        for (var round = 0; round < periods; round++)
        {
            // The first period creates every host and socket; the cost is measured over the later, steady ones.
            if (round == 1)
            {
                from = await meter.ReadAsync();
                lock (latencies) latencies.Clear();
                Interlocked.Exchange(ref batches, 0);
            }

            var end = started + period * (round + 1);
            await Parallel.ForEachAsync(Enumerable.Range(0, hostCount), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (h, _) =>
            {
                // Each host reports at its own moment within the period.
                var due = started + period * round + period * ((h * 0.618034) % 1);
                if (due > DateTime.UtcNow) await Task.Delay(due - DateTime.UtcNow);
                var client = new Sightings.SightingsClient(channels[h % channels.Length]);
                var now = DateTime.UtcNow.AddSeconds(-1);
                var batch = FleetSimulator.Batch(sets[h].Select(k => catalog.Sighting($"full-{h:D6}", k, now)));
                while (true)
                {
                    var clock = Stopwatch.GetTimestamp();
                    try
                    {
                        await client.ReportBatchAsync(batch, deadline: DateTime.UtcNow.AddSeconds(30));
                        lock (latencies) latencies.Add(Stopwatch.GetElapsedTime(clock).TotalMilliseconds);
                        Interlocked.Increment(ref batches);
                        return;
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && e.Trailers.GetValue("retry-after-ms") is { } ms)
                    {
                        Interlocked.Increment(ref retryAfters);
                        await Task.Delay(TimeSpan.FromMilliseconds(double.Parse(ms, System.Globalization.CultureInfo.InvariantCulture)));
                    }
                    catch (RpcException)
                    {
                        Interlocked.Increment(ref errors);
                        return;
                    }
                }
            });
            if (end > DateTime.UtcNow) await Task.Delay(end - DateTime.UtcNow);
        }

        var to = await meter.ReadAsync();
        foreach (var channel in channels) channel.Dispose();
        await server.StopAsync();
        latencies.Sort();
        var cost = FleetCost.Between(from!, to, hostCount);
        return new Outcome(hostCount, cost, batches / cost.Seconds, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)], retryAfters, errors);
    }
}
