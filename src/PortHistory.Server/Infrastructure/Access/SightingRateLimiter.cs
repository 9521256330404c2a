using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace PortHistory.Server.Infrastructure.Access;

public sealed class RateLimitOptions
{
    public const string Section = "PortHistory:RateLimit";

    /// <summary>Sightings per second an agent token may report, sustained.</summary>
    public double SightingsPerSecond { get; set; } = 50_000;

    /// <summary>Sightings an agent may report in one burst.</summary>
    public double Burst { get; set; } = 200_000;

    /// <summary>Calls one token may have in flight at once, of any kind (open streams included).</summary>
    public int ConcurrentCallsPerToken { get; set; } = 256;
}

/// <summary>A token bucket per agent token: reports beyond the rate are refused with how long to wait.</summary>
public sealed class SightingRateLimiter(IOptions<RateLimitOptions> options)
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

            return TimeSpan.FromSeconds((Math.Min(sightings, burst) - bucket.Tokens) / rate);
        }
    }

    private sealed class Bucket(double tokens)
    {
        public double Tokens { get; set; } = tokens;
        public long LastMilliseconds { get; set; } = Environment.TickCount64;
    }
}
