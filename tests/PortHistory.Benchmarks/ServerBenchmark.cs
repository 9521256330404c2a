using System.Diagnostics;
using System.Net.Sockets;
using Google.Protobuf;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// The server for real (its own process, a fresh PostgreSQL): cold start, full import of the sixteen editions,
/// resident memory with every port grain active, and GetPort under h2load next to a bare gRPC echo driven the same
/// way in the same run (echoing the request, and answering constant messages of GetPort's answer sizes): over gRPC
/// with metrics on (the default) and off, and as JSON over HTTP/1.1.
/// </summary>
internal static class ServerBenchmark
{
    private static readonly uint[] Ports = [22, 80, 443, 776];

    /// <param name="rounds">
    /// Echo and GetPort runs alternate this many times per setting: a machine whose speed drifts within minutes then
    /// drifts under both alike. Rates are averaged over the rounds, percentiles taken over all their requests.
    /// </param>
    public static async Task RunAsync(TextWriter output, int seconds, int rounds)
    {
        H2Load.EnsureInstalled(output);
        output.WriteLine($"PortHistory server benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
                         $"h2load {seconds}s per run, {rounds} alternating rounds per setting");
        output.WriteLine();

        await using var postgres = await PostgresServer.StartAsync();
        await using var server = new ServerProcess(postgres.ConnectionString("bench"));
        var clock = Stopwatch.StartNew();
        await server.StartAsync();
        var coldEmpty = clock.Elapsed;

        clock.Restart();
        // As `porthistory import DIR` does: every file at once, progress shown as the server reports it.
        var shown = 0;
        var imports = await Task.WhenAll(RegistryData.EditionFiles.Select(file => EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf(file),
            onProgress: p =>
            {
                if (p.Stage == ImportStage.Staging && p.Total > 0 && p.Done * 10 / p.Total > Volatile.Read(ref shown))
                {
                    Interlocked.Exchange(ref shown, (int)(p.Done * 10 / p.Total));
                    output.WriteLine($"  import: {p.Message} ({clock.Elapsed.TotalSeconds:0.0}s)");
                }
            })));
        var import = clock.Elapsed;
        output.WriteLine($"imported {imports.Length} editions ({string.Join(", ", imports.Select(p => p[^1].Stage).Distinct())}) in {import.TotalSeconds:0.0}s");

        // Every port grain active.
        clock.Restart();
        var client = new PortRegistry.PortRegistryClient(server.Channel);
        await Parallel.ForEachAsync(Enumerable.Range(0, 65536), new ParallelOptions { MaxDegreeOfParallelism = 64 },
            async (port, _) => await client.GetPortAsync(new GetPortRequest { Port = (uint)port }));
        var warm = clock.Elapsed;
        var resident = ResidentBytes(server.ProcessId!.Value);

        // Internal tooling reads with a reader token (admins see host ids, a different answer).
        var readerToken = (await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(
            new IssueTokenRequest { Name = "benchmark reader", Role = Role.Reader })).Token;
        var getPortBodies = Ports.Select(p => new GetPortRequest { Port = p }.ToByteArray()).ToList();
        var check = await client.GetPortAsync(new GetPortRequest { Port = 776 });
        if (check.Transports.Count == 0) throw new InvalidOperationException("GetPort(776) answered nothing");
        // The echo's second anchor answers constant messages of the sizes a reader's GetPort answers have: what gRPC
        // itself costs for those bytes, apart from what PortHistory does to find them.
        using var readerChannel = server.ChannelWith(() => readerToken);
        var reader = new PortRegistry.PortRegistryClient(readerChannel);
        var sizedBodies = new List<byte[]>();
        foreach (var port in Ports) sizedBodies.Add(Echo.SizedRequest.Of((await reader.GetPortAsync(new GetPortRequest { Port = port })).CalculateSize()));

        // The same database served with metrics off, by a process that takes turns with the default one.
        await using var metricsOff = new ServerProcess(postgres.ConnectionString("bench"),
            new Dictionary<string, string> { ["PortHistory__Metrics__Enabled"] = "false" });
        var echoPort = PostgresServer.FreePort();
        var constantPort = PostgresServer.FreePort();
        // The JSON answers' sizes, for a constant body of each size from a minimal endpoint (in the echo's process).
        var jsonSizes = await JsonSizesAsync(server, readerToken);
        var table = new Table("workload", "connections x streams", "req/s", "p50 ms", "p99 ms", "failed", "vs echo", "server CPU µs/req");
        var metricCosts = new List<string>();
        List<string> jsonCosts = [], sizeCosts = [];
        using (var echo = StartEcho(echoPort, constantPort))
        {
            try
            {
                await WaitForPortAsync(echoPort);
                var echoBodies = getPortBodies.Select(b => new Echo.EchoMessage { Payload = ByteString.CopyFrom(b) }.ToByteArray()).ToList();
                // Warmed as each GetPort process is, by one unmeasured run of each method: a cold first round was the JIT's.
                await H2Load.RunAsync($"http://127.0.0.1:{echoPort}/bench.Echo/Say", echoBodies, 16, seconds);
                await H2Load.RunAsync($"http://127.0.0.1:{echoPort}/bench.Echo/Sized", sizedBodies, 16, seconds);
                foreach (var streams in new[] { 16, 64 })
                {
                    var echoRuns = new List<H2Load.Result>();
                    var sizedRuns = new List<H2Load.Result>();
                    var getPortRuns = new List<H2Load.Result>();
                    var offRuns = new List<H2Load.Result>();
                    var jsonRuns = new List<H2Load.Result>();
                    var constantRuns = new List<H2Load.Result>();
                    // The serving process's CPU time per answered request: what a workload costs the server, whatever share of
                    // the two cores h2load takes (throughput alone mixes the two).
                    var cpu = new Dictionary<List<H2Load.Result>, List<double>> { [echoRuns] = [], [sizedRuns] = [], [getPortRuns] = [], [offRuns] = [], [jsonRuns] = [], [constantRuns] = [] };
                    for (var round = 1; round <= rounds; round++)
                    {
                        var e = await Measured(echo.Id, echoRuns, () => H2Load.RunAsync($"http://127.0.0.1:{echoPort}/bench.Echo/Say", echoBodies, streams, seconds));
                        await Measured(echo.Id, sizedRuns, () => H2Load.RunAsync($"http://127.0.0.1:{echoPort}/bench.Echo/Sized", sizedBodies, streams, seconds));
                        await Measured(echo.Id, constantRuns,
                            () => H2Load.RunHttp1Async(jsonSizes.Select(n => $"http://127.0.0.1:{constantPort}/bytes/{n}").ToList(), streams, seconds));
                        // Metrics on first in odd rounds and off first in even ones, so drift falls on both alike.
                        foreach (var metrics in round % 2 == 1 ? new[] { true, false } : [false, true])
                        {
                            // Each measured by a process started for it and warmed alike, so neither has the longer-run JIT.
                            var serving = metrics ? server : metricsOff;
                            await server.StopAsync();
                            await metricsOff.StopAsync();
                            await serving.StartAsync();
                            await WarmAsync(serving);
                            await H2Load.RunAsync($"{serving.Address}/porthistory.v1.PortRegistry/GetPort", getPortBodies, streams, seconds, readerToken);
                            var g = await Measured(serving.ProcessId!.Value, metrics ? getPortRuns : offRuns,
                                () => H2Load.RunAsync($"{serving.Address}/porthistory.v1.PortRegistry/GetPort", getPortBodies, streams, seconds, readerToken));
                            output.WriteLine($"  4 x {streams}, round {round}: GetPort metrics {(metrics ? "on" : "off")} {g.RequestsPerSecond:0} req/s " +
                                             $"p99 {g.P99Milliseconds:0.0} ms ({g.RequestsPerSecond / e.RequestsPerSecond:0.00} of echo {e.RequestsPerSecond:0})");
                            if (!metrics) continue;
                            var j = await Measured(serving.ProcessId!.Value, jsonRuns,
                                () => H2Load.RunHttp1Async(Ports.Select(p => $"{serving.HttpAddress}/v1/ports/{p}").ToList(), streams, seconds, readerToken));
                            output.WriteLine($"  4 x {streams}, round {round}: GET /v1/ports/N HTTP/1.1 {j.RequestsPerSecond:0} req/s p99 {j.P99Milliseconds:0.0} ms");
                        }
                    }

                    var baseline = H2Load.Result.Pool(echoRuns);
                    table.Add("echo (bare Grpc.AspNetCore)", $"4 x {streams}", baseline.RequestsPerSecond, baseline.P50Milliseconds, baseline.P99Milliseconds,
                        baseline.Failed, "1.00", cpu[echoRuns].Average());
                    AddRow("echo answering GetPort's sizes (bare Grpc.AspNetCore)", $"4 x {streams}", sizedRuns);
                    AddRow("GetPort (gateway -> port grain)", $"4 x {streams}", getPortRuns);
                    AddRow("GetPort, metrics off", $"4 x {streams}", offRuns);
                    AddRow("GET /v1/ports/N (HTTP/1.1 JSON)", $"4 x {streams} conn", jsonRuns);
                    AddRow("constant body of the same size (minimal endpoint, HTTP/1.1)", $"4 x {streams} conn", constantRuns);
                    var sameSize = getPortRuns.Zip(sizedRuns, (g, z) => g.RequestsPerSecond / z.RequestsPerSecond).ToList();
                    sizeCosts.Add($"4 x {streams}: throughput {H2Load.Result.Pool(getPortRuns).RequestsPerSecond / H2Load.Result.Pool(sizedRuns).RequestsPerSecond:0.00} " +
                                  $"({sameSize.Min():0.00}-{sameSize.Max():0.00}), server CPU {cpu[getPortRuns].Average() / cpu[sizedRuns].Average():0.00}");
                    jsonCosts.Add($"4 x {streams}: {cpu[jsonRuns].Average() / cpu[getPortRuns].Average():0.00} (goal <= 2; the constant body: " +
                                  $"{cpu[constantRuns].Average() / cpu[getPortRuns].Average():0.00})");
                    var costs = getPortRuns.Zip(offRuns, (on, off) => 1 - on.RequestsPerSecond / off.RequestsPerSecond).ToList();
                    var cpuCosts = cpu[getPortRuns].Zip(cpu[offRuns], (on, off) => on / off - 1).ToList();
                    metricCosts.Add($"4 x {streams}: throughput {costs.Average():P1} ({costs.Min():P1} to {costs.Max():P1}), " +
                                    $"server CPU per request {cpuCosts.Average():P1} ({cpuCosts.Min():P1} to {cpuCosts.Max():P1})");

                    void AddRow(string workload, string shape, List<H2Load.Result> runs)
                    {
                        var pooled = H2Load.Result.Pool(runs);
                        var ratios = runs.Zip(echoRuns, (r, e) => r.RequestsPerSecond / e.RequestsPerSecond).ToList();
                        table.Add(workload, shape, pooled.RequestsPerSecond, pooled.P50Milliseconds, pooled.P99Milliseconds, pooled.Failed,
                            $"{pooled.RequestsPerSecond / baseline.RequestsPerSecond:0.00} ({ratios.Min():0.00}-{ratios.Max():0.00})", cpu[runs].Average());
                    }

                    async Task<H2Load.Result> Measured(int pid, List<H2Load.Result> runs, Func<Task<H2Load.Result>> run)
                    {
                        var before = CpuSeconds(pid);
                        var result = await run();
                        cpu[runs].Add((CpuSeconds(pid) - before) * 1e6 / Math.Max(1, result.Succeeded));
                        runs.Add(result);
                        return result;
                    }
                }
            }
            finally
            {
                // A failed run must not leave the echo server behind.
                echo.Kill();
            }
        }

        await metricsOff.StopAsync();
        // Cold start with the full database: a new process until grpc.health.v1 says SERVING.
        await server.StopAsync();
        clock.Restart();
        await server.StartAsync();
        var coldFull = clock.Elapsed;

        table.WriteTo(output);
        output.WriteLine($"What metrics cost GetPort (per round pair; throughput 1 - on/off, server CPU on/off - 1): {string.Join("; ", metricCosts)}");
        output.WriteLine($"Server CPU per request, HTTP/1.1 JSON over gRPC GetPort (metrics on): {string.Join("; ", jsonCosts)}");
        output.WriteLine($"GetPort (metrics on) against the echo answering the same sizes: {string.Join("; ", sizeCosts)}");
        output.WriteLine();
        var summary = new Table("server", "value", "target");
        summary.Add("full import of 16 editions into an empty database (s)", import.TotalSeconds, "< 60");
        summary.Add("activate all 65,536 port grains (s)", warm.TotalSeconds, "");
        summary.Add("resident memory, all port grains active (MiB)", resident / 1024.0 / 1024, "<= 1024");
        summary.Add("cold start to SERVING, empty database (s)", coldEmpty.TotalSeconds, "< 5");
        summary.Add("cold start to SERVING, full database (s)", coldFull.TotalSeconds, "< 5");
        summary.WriteTo(output);
    }

    /// <summary>The size of each benchmark port's HTTP/JSON answer, as a reader gets it.</summary>
    private static async Task<List<int>> JsonSizesAsync(ServerProcess server, string readerToken)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", readerToken);
        var sizes = new List<int>();
        foreach (var port in Ports) sizes.Add((await http.GetByteArrayAsync($"{server.HttpAddress}/v1/ports/{port}")).Length);
        return sizes;
    }

    /// <summary>The benchmark's ports answered once by a freshly started process, so h2load measures no activation.</summary>
    private static async Task WarmAsync(ServerProcess server)
    {
        var client = new PortRegistry.PortRegistryClient(server.Channel);
        foreach (var port in Ports) await client.GetPortAsync(new GetPortRequest { Port = port });
    }

    internal static Process StartEcho(int port, int http1Port = 0)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(RegistryData.RepositoryRoot, "tests", "PortHistory.Benchmarks.Echo", "bin", configuration, "net10.0", "PortHistory.Benchmarks.Echo.dll");
        return Process.Start(new ProcessStartInfo("dotnet", $"\"{dll}\" {port} {http1Port}") { RedirectStandardOutput = true, UseShellExecute = false })!;
    }

    internal static async Task WaitForPortAsync(int port)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"nothing listens on {port}");
    }

    /// <summary>User plus system CPU time of a process so far (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
    internal static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name (which may hold spaces): state is field 3, utime 14 and stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    internal static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
