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
public sealed class CallLimits(IOptions<RateLimitOptions> options, IOptions<WatchOptions> watch, PortHistoryMetrics metrics) : IDisposable
{
    // Watch streams stay open for hours: a token has a few of them, below its calls in flight.
    private readonly PartitionedRateLimiter<string> _watchStreams = PartitionedRateLimiter.Create<string, string>(tokenId =>
        RateLimitPartition.GetConcurrencyLimiter(tokenId, _ => new ConcurrencyLimiterOptions { PermitLimit = watch.Value.StreamsPerToken, QueueLimit = 0 }));

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(tokenId =>
        RateLimitPartition.GetConcurrencyLimiter(tokenId, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = Math.Max(1, options.Value.ConcurrentCallsPerToken),
            QueueLimit = 0,
        }));

    /// <summary>A lease to dispose when the call ends, or an RpcException when the token is at its limit.</summary>
    public RateLimitLease Enter(Principal principal)
    {
        var lease = _limiter.AttemptAcquire(principal.TokenId);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        metrics.RateLimited(RateLimit.ConcurrentCalls);
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"too many calls in flight: token {principal.TokenId} may have {options.Value.ConcurrentCallsPerToken} at once"));
    }

    /// <summary>A watch stream's lease, held while it is open, or an RpcException when the token has its streams open.</summary>
    public RateLimitLease EnterWatch(Principal principal)
    {
        var lease = _watchStreams.AttemptAcquire(principal.TokenId);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        metrics.RateLimited(RateLimit.WatchStreams);
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"too many watch streams: token {principal.TokenId} may have {watch.Value.StreamsPerToken} open at once on this gateway"));
    }

    public void Dispose()
    {
        _limiter.Dispose();
        _watchStreams.Dispose();
    }
}
