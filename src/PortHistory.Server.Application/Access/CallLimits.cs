using System.Collections.Concurrent;
using System.Threading.RateLimiting;
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
/// One concurrency limiter per token, kept for the process's life: only authorized tokens get one, and tokens are
/// few. A partitioned limiter would build its partition (two delegates and their closures) on every call and take one
/// lock for all tokens; on the GetPort path that was a tenth of what a call allocates.
/// </remarks>
public sealed class CallLimits(IOptions<RateLimitOptions> options, IOptions<WatchOptions> watch, PortHistoryMetrics metrics) : IDisposable
{
    // Watch streams stay open for hours: a token has a few of them, below its calls in flight.
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _watchStreams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _calls = new(StringComparer.Ordinal);

    /// <summary>A lease to dispose when the call ends, or an RpcException when the token is at its limit.</summary>
    public RateLimitLease Enter(Principal principal)
    {
        var lease = Limiter(_calls, principal.TokenId, Math.Max(1, options.Value.ConcurrentCallsPerToken)).AttemptAcquire();
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        metrics.RateLimited(RateLimit.ConcurrentCalls);
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"too many calls in flight: token {principal.TokenId} may have {options.Value.ConcurrentCallsPerToken} at once"));
    }

    /// <summary>A watch stream's lease, held while it is open, or an RpcException when the token has its streams open.</summary>
    public RateLimitLease EnterWatch(Principal principal)
    {
        var lease = Limiter(_watchStreams, principal.TokenId, watch.Value.StreamsPerToken).AttemptAcquire();
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        metrics.RateLimited(RateLimit.WatchStreams);
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"too many watch streams: token {principal.TokenId} may have {watch.Value.StreamsPerToken} open at once on this gateway"));
    }

    private static ConcurrencyLimiter Limiter(ConcurrentDictionary<string, ConcurrencyLimiter> limiters, string tokenId, int permits) =>
        limiters.TryGetValue(tokenId, out var limiter)
            ? limiter
            : limiters.GetOrAdd(tokenId, static (_, permits) => new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = 0 }), permits);

    public void Dispose()
    {
        foreach (var limiter in _calls.Values.Concat(_watchStreams.Values)) limiter.Dispose();
    }
}
