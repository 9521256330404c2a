using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// Ingest with open watch streams (1,000 by default) against none, in the same run on the same server (rounds
/// alternate: none, watched, watched, none), and how long events take from being raised to reaching a watcher. Every
/// round reports processes of new names, so each raises events (new processes, verdict changes) for the watchers to
/// carry.
/// </summary>
internal static class WatchBenchmark
{
    public static async Task RunAsync(TextWriter output, int seconds, int watchers = 1000)
    {
        var Watchers = watchers;
        output.WriteLine($"PortHistory watch benchmark: {Environment.ProcessorCount} cores, ingest as in `ingest`, {seconds}s per round, {Watchers} watch streams");
        output.WriteLine();
        await using var postgres = await PostgresServer.StartAsync();
        var settings = new Dictionary<string, string>(IngestBenchmark.Settings)
        {
            ["PortHistory__Watch__StreamsPerToken"] = $"{Watchers}",
        };
        await using var server = new ServerProcess(postgres.ConnectionString("watch"), settings);
        await server.StartAsync();
        using var agents = await IngestBenchmark.PrepareAsync(server);
        var issued = await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "bench watchers", Role = Role.Reader });
        var channels = Enumerable.Range(0, Math.Max(1, (Watchers + 99) / 100)).Select(_ => server.ChannelWith(() => issued.Token)).ToArray();
        var zipf = new IngestBenchmark.Zipf(65536, 1.0, seed: 7);

        var plain = new List<IngestBenchmark.Result>();
        var watched = new List<IngestBenchmark.Result>();
        var latencies = new List<double>();
        long delivered = 0;
        foreach (var (round, watching) in new[] { false, true, true, false }.Select((w, i) => (i, w)))
        {
            if (!watching)
            {
                var result = await IngestBenchmark.ReportAsync(agents, zipf, seconds, $"r{round}");
                plain.Add(result);
                output.WriteLine($"round {round + 1}: no watchers, {result.RowsPerSecond:N0} sightings/s");
                continue;
            }

            using var stop = new CancellationTokenSource();
            // Over a few connections, as many callers would come; HTTP/2 allows 100 streams on each by default here.
            var streams = Enumerable.Range(0, Watchers).Select(i => WatchAsync(channels[i % channels.Length], stop.Token)).ToList();
            var ingest = await IngestBenchmark.ReportAsync(agents, zipf, seconds, $"r{round}");
            // Events raised at the end of the round still reach the watchers.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            var rounds = await Task.WhenAll(streams);
            watched.Add(ingest);
            var received = rounds.Sum(r => r.Count);
            delivered += received;
            lock (latencies) latencies.AddRange(rounds.SelectMany(r => r));
            output.WriteLine($"round {round + 1}: {Watchers} watchers, {ingest.RowsPerSecond:N0} sightings/s, {received:N0} events delivered ({received / Watchers:N0} per stream)");
        }

        foreach (var channel in channels) channel.Dispose();
        output.WriteLine();
        var table = new Table("ingest", "sightings/s", "ack p50 ms", "ack p99 ms", "vs no watchers");
        var none = Mean(plain);
        var some = Mean(watched);
        table.Add("no watch streams", none.RowsPerSecond, none.P50, none.P99, "1.00");
        table.Add($"{Watchers} watch streams", some.RowsPerSecond, some.P50, some.P99, (some.RowsPerSecond / none.RowsPerSecond).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
        table.WriteTo(output);
        output.WriteLine();
        latencies.Sort();
        var delivery = new Table("event delivery (raised to received)", "events", "p50 ms", "p99 ms");
        delivery.Add($"{Watchers} streams", delivered.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)]);
        delivery.WriteTo(output);
    }

    /// <summary>One watcher: every event from now on, with the milliseconds from its raising (the database's clock) to its receipt.</summary>
    private static async Task<List<double>> WatchAsync(Grpc.Net.Client.GrpcChannel channel, CancellationToken stop)
    {
        var latencies = new List<double>();
        using var call = new PortHistory.Contracts.V1.Observations.ObservationsClient(channel).Watch(new WatchRequest(), cancellationToken: stop);
        try
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync(stop))
            {
                if (response.Event is { } e) latencies.Add((DateTime.UtcNow - e.RaisedAt.ToDateTime()).TotalMilliseconds);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
        }

        return latencies;
    }

    private static IngestBenchmark.Result Mean(IReadOnlyList<IngestBenchmark.Result> results) =>
        new(results.Average(r => r.RowsPerSecond), results.Average(r => r.P50), results.Average(r => r.P99));
}
