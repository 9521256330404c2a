using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Calls one token may have in flight at once (streams count for as long as they are open): one caller, buggy or
/// hostile, cannot hold every worker, connection and stream of the gateway. Beyond it a call is refused with
/// ResourceExhausted at once rather than queued.
/// </summary>
/// <remarks>
/// One count per token, kept for the process's life: only authorized tokens get one, and tokens are few.
/// </remarks>
public sealed class CallLimits(IOptions<RateLimitOptions> options, IOptions<WatchOptions> watch, PortHistoryMetrics metrics)
{
    // Watch streams stay open for hours: a token has a few of them, below its calls in flight.
    private readonly ConcurrentDictionary<string, InFlightCount> _watchStreams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, InFlightCount> _calls = new(StringComparer.Ordinal);

    /// <summary>A permit to dispose when the call ends, or an RpcException when the token is at its limit.</summary>
    public CallPermit Enter(Principal principal)
    {
        if (Count(_calls, principal.TokenId, Math.Max(1, options.Value.ConcurrentCallsPerToken)).TryEnter(out var permit)) return permit;
        metrics.RateLimited(RateLimit.ConcurrentCalls);
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"too many calls in flight: token {principal.TokenId} may have {options.Value.ConcurrentCallsPerToken} at once"));
    }

    /// <summary>A watch stream's permit, held while it is open, or an RpcException when the token has its streams open.</summary>
    public CallPermit EnterWatch(Principal principal)
    {
        if (Count(_watchStreams, principal.TokenId, watch.Value.StreamsPerToken).TryEnter(out var permit)) return permit;
        metrics.RateLimited(RateLimit.WatchStreams);
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"too many watch streams: token {principal.TokenId} may have {watch.Value.StreamsPerToken} open at once on this gateway"));
    }

    private static InFlightCount Count(ConcurrentDictionary<string, InFlightCount> counts, string tokenId, int limit) =>
        counts.TryGetValue(tokenId, out var count)
            ? count
            : counts.GetOrAdd(tokenId, static (_, limit) => new InFlightCount(limit), limit);
}
