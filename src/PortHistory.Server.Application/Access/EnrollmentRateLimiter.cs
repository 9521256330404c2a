using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// A token bucket per enrollment secret (and per credential, for rotations): a leaked secret, or an agent looping on
/// enrollment, can add only so many credentials a minute.
/// </summary>
public sealed class EnrollmentRateLimiter(IOptions<RateLimitOptions> options, PortHistoryMetrics metrics) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(tokenId =>
        RateLimitPartition.GetTokenBucketLimiter(tokenId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.EnrollmentBurst,
            // Refilled once a minute: exact for any rate, and the burst is what absorbs a fleet starting together.
            TokensPerPeriod = options.Value.EnrollmentsPerMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <returns>Zero when allowed; otherwise how long to wait before trying again.</returns>
    public TimeSpan TryTake(string tokenId)
    {
        using var lease = _limiter.AttemptAcquire(tokenId);
        if (lease.IsAcquired) return TimeSpan.Zero;
        metrics.RateLimited(RateLimit.Enrollments);
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _limiter.Dispose();
}
