using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Who a presented secret is, from a per-silo cache in front of PostgreSQL. A revocation evicts exactly the revoked
/// tokens, on this silo at once and on the others by a notification naming them; only a reconnect of the listener
/// (notifications may have been missed) forgets everything. Unknown secrets cannot make honest calls wait: they are
/// remembered briefly, at most <see cref="LookupsInFlight"/> lookups run at once with a bounded queue behind them
/// (beyond it Unavailable at once), and each address gets a bounded number of lookups (<see cref="FailedAuthenticationLimiter"/>;
/// malformed and recently seen unknown secrets cost nothing and are not counted).
/// </summary>
public sealed class TokenValidator(
    IAccessTokenStore store,
    FailedAuthenticationLimiter failures,
    IOptions<EnrollmentOptions> enrollment,
    PortHistoryMetrics metrics,
    TimeProvider time,
    ILogger<TokenValidator> logger) : INotificationHandler, IDisposable
{
    /// <summary>
    /// How long a known token is trusted without asking PostgreSQL again. Long, because revocations evict precisely: a
    /// fleet of per-host credentials heartbeating every minute then costs no lookups at all.
    /// </summary>
    public static readonly TimeSpan KnownFor = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan UnknownFor = TimeSpan.FromSeconds(30);

    /// <summary>Unknown secrets remembered at most (the oldest go first); each miss costs a hash and a query.</summary>
    private const int UnknownEntries = 10_000;

    public const int LookupsInFlight = 4;

    /// <summary>Lookups that may wait for one of the <see cref="LookupsInFlight"/>; the next is refused at once.</summary>
    public const int LookupQueue = 64;

    // Known tokens (issued by admins or enrollment) and unknown secrets (anyone can present any number) apart, so that
    // guessing can neither fill the memory nor push out the tokens in use.
    private readonly ConcurrentDictionary<string, (Principal Principal, DateTimeOffset Until)> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _secretOfToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknown = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _unknownOrder = new();

    private readonly ConcurrencyLimiter _lookups = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = LookupsInFlight,
        QueueLimit = LookupQueue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    // Bumped by every eviction: a lookup that started before it does not cache what it read.
    private long _generation;

    private ConcurrentDictionary<string, (Principal Principal, DateTimeOffset Until)>.AlternateLookup<ReadOnlySpan<char>> KnownBySecret =>
        _known.GetAlternateLookup<ReadOnlySpan<char>>();

    private ConcurrentDictionary<string, DateTimeOffset>.AlternateLookup<ReadOnlySpan<char>> UnknownBySecret =>
        _unknown.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// The principal of a presented secret, or null when it is unknown or revoked. Refusals that are not about the
    /// token itself (this address failed too often, too many lookups waiting) are RpcExceptions with a retry-after.
    /// </summary>
    public ValueTask<Principal?> ValidateAsync(ReadOnlySpan<char> secret, IPAddress? peer, CancellationToken cancellationToken)
    {
        // Keyed by the presented secret itself: a hit (nearly every call) hashes nothing and allocates nothing.
        var now = time.GetUtcNow();
        if (KnownBySecret.TryGetValue(secret, out var known) && known.Until > now)
        {
            metrics.TokenLookedUp(TokenLookup.Hit);
            return ValueTask.FromResult<Principal?>(known.Principal);
        }

        // Something that cannot be a token is refused without a hash or a query.
        if (!TokenSecrets.LooksLikeSecret(secret))
        {
            metrics.TokenLookedUp(TokenLookup.Malformed);
            return ValueTask.FromResult<Principal?>(null);
        }

        if (UnknownBySecret.TryGetValue(secret, out var until) && until > now)
        {
            metrics.TokenLookedUp(TokenLookup.NegativeHit);
            return ValueTask.FromResult<Principal?>(null);
        }

        if (!failures.TryTakeLookup(peer, out var wait))
        {
            metrics.TokenLookedUp(TokenLookup.Throttled);
            metrics.RateLimited(RateLimit.FailedAuthentications);
            return ValueTask.FromException<Principal?>(RetryAfter.Refusal(StatusCode.ResourceExhausted,
                "authorization: too many failed authentications from this address; retry after {ms} ms", wait));
        }

        return LookUpAsync(secret.ToString(), cancellationToken);
    }

    private async ValueTask<Principal?> LookUpAsync(string secret, CancellationToken cancellationToken)
    {
        var generation = Interlocked.Read(ref _generation);
        using var lease = await _lookups.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            metrics.TokenLookedUp(TokenLookup.Busy);
            throw RetryAfter.Refusal(StatusCode.Unavailable, "authorization: the server is busy checking tokens; retry after {ms} ms", TimeSpan.FromSeconds(1));
        }

        metrics.TokenLookedUp(TokenLookup.Miss);
        var found = await store.FindAsync(TokenSecrets.Hash(secret), enrollment.Value.PendingRotationLifetime, cancellationToken);
        var principal = found?.Principal;

        // A rotated credential's first use: the host's other credentials (the one it replaces, and any other
        // rotation never used) stop working now.
        if (found is { ReplacesOnUse: true, Principal.HostRef: { } hostRef })
        {
            var revoked = await store.TakeOverAsync(found.Principal.TokenId, hostRef, cancellationToken);
            if (revoked.Count > 0)
            {
                await ForgetAsync(revoked, cancellationToken);
                logger.LogInformation("Credential {TokenId} of host {HostRef} used for the first time: the host's earlier credentials are revoked",
                    found.Principal.TokenId, hostRef);
            }
        }

        // A revocation while this lookup ran may concern this very token: then the answer is used once, not kept.
        if (Interlocked.Read(ref _generation) != generation) return principal;
        if (principal is not null)
        {
            _known[secret] = (principal, time.GetUtcNow() + KnownFor);
            _secretOfToken[principal.TokenId] = secret;
        }
        else
        {
            RememberUnknown(secret);
        }

        return principal;
    }

    private void RememberUnknown(string secret)
    {
        if (!_unknown.TryAdd(secret, time.GetUtcNow() + UnknownFor)) return;
        _unknownOrder.Enqueue(secret);
        while (_unknown.Count > UnknownEntries && _unknownOrder.TryDequeue(out var oldest)) _unknown.TryRemove(oldest, out _);
    }

    /// <summary>Tokens were revoked here: this silo forgets them at once, and tells the others which.</summary>
    public async Task ForgetAsync(IReadOnlyCollection<string> tokenIds, CancellationToken cancellationToken)
    {
        if (tokenIds.Count == 0) return;
        Evict(tokenIds);
        await store.NotifyRevokedAsync(tokenIds, cancellationToken);
    }

    /// <summary>Forgets the cached lookups of these tokens.</summary>
    public void Evict(IEnumerable<string> tokenIds)
    {
        Interlocked.Increment(ref _generation);
        foreach (var id in tokenIds)
        {
            if (_secretOfToken.TryRemove(id, out var secret)) _known.TryRemove(secret, out _);
        }
    }

    /// <summary>Forgets every cached lookup.</summary>
    public void EvictAll()
    {
        Interlocked.Increment(ref _generation);
        _known.Clear();
        _secretOfToken.Clear();
    }

    string INotificationHandler.Channel => NotificationChannels.Tokens;

    bool INotificationHandler.RefreshWithoutNotice => false;

    /// <summary>
    /// The listener just (re)connected. Cached lookups stay usable while PostgreSQL is away (no token can be revoked
    /// then); reconnecting clears them, in case a revocation was missed meanwhile.
    /// </summary>
    Task INotificationHandler.OnChangedAsync(CancellationToken cancellationToken)
    {
        EvictAll();
        return Task.CompletedTask;
    }

    /// <summary>Another silo revoked tokens: each payload names them (comma-separated); an empty one means all.</summary>
    Task INotificationHandler.OnNotifiedAsync(IReadOnlyList<string> payloads, CancellationToken cancellationToken)
    {
        if (payloads.Count == 0 || payloads.Any(string.IsNullOrEmpty)) EvictAll();
        else Evict(payloads.SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        return Task.CompletedTask;
    }

    public void Dispose() => _lookups.Dispose();
}
