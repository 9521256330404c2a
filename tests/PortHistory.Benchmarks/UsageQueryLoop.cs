using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>
/// Unary calls one after another from a .NET gRPC client for a fixed time: GetUsageHistory through the server's
/// gateway, and the bare echo service (bench.Echo/Say) the same way, as the floor of a call on this machine.
/// </summary>
internal static class UsageQueryLoop
{
    public sealed record Outcome(int Calls, double P50, double P99, int ResponseBytes)
    {
        public double CallsPerSecond { get; init; }

        /// <summary>Calls without an answer within <see cref="CallDeadline"/>: counted apart, not in the latencies.</summary>
        public int Stalled { get; init; }
    }

    /// <summary>
    /// Each call's deadline: a call that never gets its answer (seen once from the .NET client on a large echo) ends the
    /// call, not the run.
    /// </summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], byte[]> Say = new(MethodType.Unary, "bench.Echo", "Say", Bytes, Bytes);

    public static Task<Outcome> UsageAsync(GrpcChannel channel, GetUsageHistoryRequest request, TimeSpan duration)
    {
        var client = new Usage.UsageClient(channel);
        return RunAsync(async () => (await client.GetUsageHistoryAsync(request, deadline: DateTime.UtcNow + CallDeadline)).CalculateSize(), duration);
    }

    /// <summary>Echoes a message carrying <paramref name="payloadBytes"/> bytes (and gets as many back).</summary>
    public static async Task<Outcome> EchoAsync(int port, int payloadBytes, TimeSpan duration)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        var invoker = channel.CreateCallInvoker();
        var body = new Echo.EchoMessage { Payload = ByteString.CopyFrom(new byte[payloadBytes]) }.ToByteArray();
        return await RunAsync(async () => (await invoker.AsyncUnaryCall(Say, null, new CallOptions(deadline: DateTime.UtcNow + CallDeadline), body)).Length, duration);
    }

    /// <summary>Calls <paramref name="call"/> (which answers its response's size) one after another for <paramref name="duration"/>.</summary>
    public static async Task<Outcome> RunAsync(Func<Task<int>> call, TimeSpan duration)
    {
        var bytes = 0;
        var stalled = 0;
        // A call's time in ms, or null when it stalled (counted apart, not in the latencies).
        async Task<double?> TimedAsync()
        {
            var clock = Stopwatch.GetTimestamp();
            try
            {
                bytes = await call();
                return Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
            {
                stalled++;
                return null;
            }
        }

        // Warm: at least 20 calls and 2 s, so that the server's code has left its first, unoptimised tier.
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < 20 || warming.Elapsed < WarmUp; i++) await TimedAsync();
        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed < duration)
        {
            if (await TimedAsync() is { } ms) latencies.Add(ms);
        }

        latencies.Sort();
        return new Outcome(latencies.Count, latencies[latencies.Count / 2], latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))], bytes)
        {
            CallsPerSecond = latencies.Count / total.Elapsed.TotalSeconds, Stalled = stalled,
        };
    }
}
