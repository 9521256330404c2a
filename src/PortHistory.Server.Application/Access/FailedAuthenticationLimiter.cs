using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Failed authentications per remote address (an IPv6 address by its /64, what one subscriber gets): an address that
/// failed too often has its unknown tokens refused without a database lookup until its bucket refills. Tokens already
/// known to the silo (cached) are not affected: an honest caller behind the same address keeps working.
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

    /// <summary>Whether an unknown token from <paramref name="peer"/> may still be looked up; if not, when it may.</summary>
    public bool MayLookUp(IPAddress? peer, out TimeSpan retryAfter)
    {
        // Zero permits: asks whether any are left without taking one.
        using var lease = _limiter.AttemptAcquire(Key(peer), 0);
        retryAfter = lease.IsAcquired ? TimeSpan.Zero
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1);
        return lease.IsAcquired;
    }

    /// <summary>An authentication from <paramref name="peer"/> failed (unknown, revoked or malformed token).</summary>
    public void Failed(IPAddress? peer) => _limiter.AttemptAcquire(Key(peer)).Dispose();

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
