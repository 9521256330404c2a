using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Access;

/// <summary>A token bucket per agent token: reports beyond the rate are refused with how long to wait.</summary>
public sealed class SightingRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly PortHistoryMetrics _metrics;
    private readonly int _burst;

    public SightingRateLimiter(IOptions<RateLimitOptions> options, PortHistoryMetrics metrics)
    {
        _metrics = metrics;
        var settings = options.Value;
        _burst = (int)Math.Min(int.MaxValue, Math.Ceiling(Math.Max(settings.Burst, 1)));
        // One sighting per period of 1/rate: the bucket fills continuously (the partitioned limiter tops it up every
        // 100 ms from the time elapsed), and a refusal's retry-after is the time the missing sightings take to refill.
        var period = TimeSpan.FromTicks(Math.Max(1, (long)Math.Round(TimeSpan.TicksPerSecond / settings.SightingsPerSecond)));
        _limiter = PartitionedRateLimiter.Create<string, string>(tokenId => RateLimitPartition.GetTokenBucketLimiter(tokenId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = _burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = false,
        }));
    }

    /// <returns>Zero when allowed; otherwise how long until <paramref name="sightings"/> would be.</returns>
    public TimeSpan TryTake(string tokenId, int sightings)
    {
        // A batch larger than the burst costs the whole burst: allowed from a full bucket, never refused for ever.
        using var lease = _limiter.AttemptAcquire(tokenId, Math.Clamp(sightings, 1, _burst));
        if (lease.IsAcquired) return TimeSpan.Zero;
        _metrics.RateLimited(RateLimit.Sightings);
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(100);
    }

    public void Dispose() => _limiter.Dispose();
}
