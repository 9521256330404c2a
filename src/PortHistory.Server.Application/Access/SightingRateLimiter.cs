using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Access;

/// <summary>A token bucket per agent token: reports beyond the rate are refused with how long to wait.</summary>
public sealed class SightingRateLimiter(IOptions<RateLimitOptions> options, PortHistoryMetrics metrics)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <returns>Zero when allowed; otherwise how long until <paramref name="sightings"/> would be.</returns>
    public TimeSpan TryTake(string tokenId, int sightings)
    {
        var rate = options.Value.SightingsPerSecond;
        var burst = Math.Max(options.Value.Burst, 1);
        var bucket = _buckets.GetOrAdd(tokenId, _ => new Bucket(burst));
        lock (bucket)
        {
            var now = Environment.TickCount64;
            bucket.Tokens = Math.Min(burst, bucket.Tokens + (now - bucket.LastMilliseconds) / 1000.0 * rate);
            bucket.LastMilliseconds = now;
            if (bucket.Tokens >= sightings || (sightings > burst && bucket.Tokens >= burst))
            {
                bucket.Tokens -= sightings;
                return TimeSpan.Zero;
            }

            metrics.RateLimited(RateLimit.Sightings);
            return TimeSpan.FromSeconds((Math.Min(sightings, burst) - bucket.Tokens) / rate);
        }
    }

    private sealed class Bucket(double tokens)
    {
        public double Tokens { get; set; } = tokens;
        public long LastMilliseconds { get; set; } = Environment.TickCount64;
    }
}
