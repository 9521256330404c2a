using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Database lookups of tokens the silo does not know, per remote address (an IPv6 address by its /64, what one
/// subscriber gets). Each lookup takes a permit before it starts, so however many calls arrive at once, an address gets
/// at most the burst and then the rate; an attacker's lookups are all failed authentications, an honest caller's are
/// one per token per 10 minutes. Beyond it, its unknown tokens are refused without a lookup until the bucket refills.
/// Tokens already known to the silo (cached) are not affected: an honest caller behind the same address keeps working.
/// </summary>
public sealed class FailedAuthenticationLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> _limiter;

    public FailedAuthenticationLimiter(IOptions<RateLimitOptions> options)
    {
        var settings = options.Value;
        _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.FailedAuthenticationBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1.0 / settings.FailedAuthenticationsPerMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Takes a permit for looking up an unknown token from <paramref name="peer"/>; false, and when to retry, when none is left.</summary>
    public bool TryTakeLookup(IPAddress? peer, out TimeSpan retryAfter)
    {
        using var lease = _limiter.AttemptAcquire(Key(peer));
        retryAfter = lease.IsAcquired ? TimeSpan.Zero
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1);
        return lease.IsAcquired;
    }

    private static IPAddress Key(IPAddress? peer)
    {
        if (peer is null) return IPAddress.None;
        if (peer.IsIPv4MappedToIPv6) return peer.MapToIPv4();
        if (peer.AddressFamily != AddressFamily.InterNetworkV6) return peer;
        var bytes = peer.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    public void Dispose() => _limiter.Dispose();
}
