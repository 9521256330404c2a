using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PortHistory.Benchmarks;

/// <summary>
/// Drives a unary gRPC method with h2load (nghttp2-client): one h2load process per request body, run together, their
/// requests per second summed and their per-request latencies pooled from h2load's log files.
/// </summary>
internal static partial class H2Load
{
    /// <param name="Latencies">Every successful request's latency in milliseconds, sorted.</param>
    public sealed record Result(double RequestsPerSecond, IReadOnlyList<double> Latencies, long Succeeded, long Failed)
    {
        public double P50Milliseconds => Percentile(0.50);
        public double P99Milliseconds => Percentile(0.99);

        private double Percentile(double p) => Latencies.Count == 0 ? double.NaN : Latencies[Math.Min(Latencies.Count - 1, (int)(p * Latencies.Count))];

        /// <summary>Runs of equal length as one: their mean rate, and percentiles over all their requests.</summary>
        public static Result Pool(IReadOnlyList<Result> runs)
        {
            var latencies = runs.SelectMany(r => r.Latencies).ToList();
            latencies.Sort();
            return new Result(runs.Average(r => r.RequestsPerSecond), latencies, runs.Sum(r => r.Succeeded), runs.Sum(r => r.Failed));
        }
    }

    public static void EnsureInstalled(TextWriter output)
    {
        if (Exists()) return;
        if (Environment.UserName != "root") throw new InvalidOperationException("h2load is missing: apt-get install nghttp2-client");
        output.WriteLine("installing h2load (apt-get install nghttp2-client)");
        Run("apt-get", "update -qq");
        Run("apt-get", "install -y -qq nghttp2-client");
        if (!Exists()) throw new InvalidOperationException("h2load is still missing after installing nghttp2-client");
    }

    /// <param name="url">http://host:port/package.Service/Method</param>
    /// <param name="bodies">Protobuf request messages, one h2load process (one connection) each.</param>
    /// <param name="bearerToken">Sent as "authorization: Bearer …" when given.</param>
    public static async Task<Result> RunAsync(string url, IReadOnlyList<byte[]> bodies, int streamsPerConnection, int seconds, string? bearerToken = null)
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-h2load-").FullName;
        try
        {
            var headers = Headers(bearerToken);
            // h2load counts HTTP 200 as success, but gRPC errors are HTTP 200 too. A failed call answers trailers-only
            // (grpc-status among the headers h2load prints, no data); a successful one carries a message.
            var probe = await RunAsync("h2load", $"-n1 -c1 -v {headers} -d {await WriteBodyAsync(directory, "probe", bodies[0])} {url}");
            if (FailedGrpcStatusPattern().IsMatch(probe) || !ProbeDataPattern().IsMatch(probe))
            {
                throw new InvalidOperationException($"{url} did not answer with a message (grpc-status 0); h2load printed:\n{probe}");
            }

            var runs = bodies.Select(async (body, i) =>
            {
                var bodyFile = await WriteBodyAsync(directory, $"body{i}", body);
                var log = Path.Combine(directory, $"log{i}.tsv");
                var text = await RunAsync("h2load", $"-c1 -m{streamsPerConnection} -D {seconds} --warm-up-time=2 {headers} -d {bodyFile} --log-file={log} {url}");
                return (text, log);
            }).ToList();
            return Summarise(await Task.WhenAll(runs));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// GETs over HTTP/1.1 keep-alive: one h2load process per URL, each with <paramref name="connectionsEach"/>
    /// connections and one request at a time on each (no pipelining, as browsers and curl do).
    /// </summary>
    public static async Task<Result> RunHttp1Async(IReadOnlyList<string> urls, int connectionsEach, int seconds, string? bearerToken = null)
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-h2load-").FullName;
        try
        {
            var authorization = bearerToken is null ? "" : $"-H \"authorization: Bearer {bearerToken}\"";
            var runs = urls.Select(async (url, i) =>
            {
                var log = Path.Combine(directory, $"log{i}.tsv");
                var text = await RunAsync("h2load", $"--h1 -c{connectionsEach} -m1 -D {seconds} --warm-up-time=2 {authorization} --log-file={log} {url}");
                return (text, log);
            }).ToList();
            return Summarise(await Task.WhenAll(runs));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Result Summarise(IEnumerable<(string Text, string Log)> finished)
    {
        double rps = 0;
        long succeeded = 0, failed = 0;
        var latencies = new List<double>();
        foreach (var (text, log) in finished)
        {
            var summary = FinishedPattern().Match(text);
            if (!summary.Success) throw new InvalidOperationException($"unexpected h2load output:\n{text}");
            rps += double.Parse(summary.Groups["rps"].Value, CultureInfo.InvariantCulture);
            var status = StatusPattern().Match(text);
            succeeded += long.Parse(status.Groups["ok"].Value, CultureInfo.InvariantCulture);
            failed += long.Parse(status.Groups["failed"].Value, CultureInfo.InvariantCulture);
            foreach (var line in File.ReadLines(log))
            {
                var columns = line.Split('\t');
                if (columns.Length >= 3 && columns[1] == "200") latencies.Add(double.Parse(columns[2], CultureInfo.InvariantCulture) / 1000);
                else if (columns.Length >= 3) failed++;
            }
        }

        latencies.Sort();
        return new Result(rps, latencies, succeeded, failed);
    }

    private static string Headers(string? bearerToken) =>
        "-H \"content-type: application/grpc\" -H \"te: trailers\"" + (bearerToken is null ? "" : $" -H \"authorization: Bearer {bearerToken}\"");

    /// <summary>The request as one gRPC length-prefixed message, in a file for h2load's -d.</summary>
    private static async Task<string> WriteBodyAsync(string directory, string name, byte[] body)
    {
        var file = Path.Combine(directory, name + ".bin");
        var framed = new byte[5 + body.Length];
        framed[1] = (byte)(body.Length >> 24);
        framed[2] = (byte)(body.Length >> 16);
        framed[3] = (byte)(body.Length >> 8);
        framed[4] = (byte)body.Length;
        body.CopyTo(framed, 5);
        await File.WriteAllBytesAsync(file, framed);
        return file;
    }

    private static bool Exists() => File.Exists("/usr/bin/h2load") || File.Exists("/usr/local/bin/h2load");

    private static void Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
    }

    private static async Task<string> RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await output + await error;
    }

    [GeneratedRegex(@"grpc-status: [1-9]")]
    private static partial Regex FailedGrpcStatusPattern();

    [GeneratedRegex(@"B \([1-9]\d*\) data")]
    private static partial Regex ProbeDataPattern();

    [GeneratedRegex(@"finished in [\d.]+s, (?<rps>[\d.]+) req/s")]
    private static partial Regex FinishedPattern();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (?<ok>\d+) succeeded, (?<failed>\d+) failed")]
    private static partial Regex StatusPattern();
}
