using Google.Protobuf;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// What collecting metrics costs GetPort: the same database served by processes that differ only in their metrics
/// settings, each started and warmed alike, taking turns (the order rotates per round). The figure that counts is the
/// server's CPU time per answered request; throughput also depends on the share of the two cores h2load takes.
/// </summary>
internal static class MetricsBenchmark
{
    private static readonly uint[] Ports = [22, 80, 443, 776];

    public static async Task RunAsync(TextWriter output, int seconds, int rounds, IReadOnlyList<(string Name, Dictionary<string, string> Settings)> variants)
    {
        H2Load.EnsureInstalled(output);
        output.WriteLine($"PortHistory metrics cost: {Environment.ProcessorCount} cores, h2load 4 x 64 for {seconds}s per run, {rounds} rounds, " +
                         $"{variants.Count} settings in turn");
        await using var postgres = await PostgresServer.StartAsync();
        var database = postgres.ConnectionString("bench");
        string token;
        await using (var setup = new ServerProcess(database))
        {
            await setup.StartAsync();
            await EditionUpload.ImportAsync(setup.Channel, RegistryData.PathOf("rfc1340.txt"));
            token = (await new AccessAdmin.AccessAdminClient(setup.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "benchmark reader", Role = Role.Reader })).Token;
            await setup.StopAsync();
        }

        var bodies = Ports.Select(p => new GetPortRequest { Port = p }.ToByteArray()).ToList();
        var runs = variants.ToDictionary(v => v.Name, _ => new List<(H2Load.Result Result, double CpuPerRequest)>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, settings) in variants.Skip(round % variants.Count).Concat(variants.Take(round % variants.Count)))
            {
                await using var server = new ServerProcess(database, settings);
                await server.StartAsync();
                var client = new PortRegistry.PortRegistryClient(server.Channel);
                foreach (var port in Ports) await client.GetPortAsync(new GetPortRequest { Port = port });
                var url = $"{server.Address}/porthistory.v1.PortRegistry/GetPort";
                await H2Load.RunAsync(url, bodies, 64, seconds, token);
                var before = ServerBenchmark.CpuSeconds(server.ProcessId!.Value);
                var result = await H2Load.RunAsync(url, bodies, 64, seconds, token);
                var cpu = (ServerBenchmark.CpuSeconds(server.ProcessId!.Value) - before) * 1e6 / Math.Max(1, result.Succeeded);
                runs[name].Add((result, cpu));
                output.WriteLine($"  round {round + 1}: {name}: {result.RequestsPerSecond:0} req/s, {cpu:0.0} µs server CPU per request");
                await server.StopAsync();
            }
        }

        // A server process sharing the two cores with h2load settles fast or slow for its whole life (about 11 or 18 µs per
        // request on the day this was written, whatever the settings; pinning the server to one core is slower still), so
        // the mean depends on how many of each a setting drew: the median and the lowest run compare like with like.
        var (baseMean, baseMin) = (runs[variants[0].Name].Average(r => r.CpuPerRequest), runs[variants[0].Name].Min(r => r.CpuPerRequest));
        var table = new Table("metrics", "req/s", "p99 ms", "failed", "CPU µs/req mean", "median", "lowest", $"mean vs {variants[0].Name}",
            $"lowest vs {variants[0].Name}");
        foreach (var (name, _) in variants)
        {
            var pooled = H2Load.Result.Pool([.. runs[name].Select(r => r.Result)]);
            var cpu = runs[name].Select(r => r.CpuPerRequest).Order().ToList();
            table.Add(name, pooled.RequestsPerSecond, pooled.P99Milliseconds, pooled.Failed, cpu.Average(), cpu[cpu.Count / 2], cpu[0],
                $"{cpu.Average() / baseMean - 1:+0.0%;-0.0%}", $"{cpu[0] / baseMin - 1:+0.0%;-0.0%}");
        }

        output.WriteLine();
        table.WriteTo(output);
    }
}
