using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Bearer tokens, stored as SHA-256 hashes. Lookups are cached per silo; a revocation clears this
/// silo's cache at once and tells the other silos through a notification, so a revoked token stops working at once.
/// </summary>
public sealed class AccessTokens(IAccessTokenStore store, PortHistoryMetrics metrics, ILogger<AccessTokens> logger) : INotificationHandler, IHostCredentials
{
    private static readonly TimeSpan Positive = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Negative = TimeSpan.FromSeconds(30);
    private const string SecretPrefix = "ph_";
    private const int SecretLength = 46; // "ph_" and 32 random bytes in unpadded base64url

    /// <summary>Unknown secrets remembered at most (the oldest go first); each miss costs a hash and a query.</summary>
    private const int NegativeEntries = 10_000;

    // Known tokens (a handful, issued by admins) and unknown secrets (anyone can present any number) apart, so that
    // guessing can neither fill the memory nor push out the tokens in use.
    private readonly ConcurrentDictionary<string, (Principal Principal, DateTime Until)> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _unknown = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _unknownOrder = new();

    // Database lookups in flight at most: a flood of unknown secrets must not take the connection pool.
    private readonly SemaphoreSlim _lookups = new(4);

    // Bumped by every revocation: a lookup that started before it does not cache what it read.
    private long _generation;

    private ConcurrentDictionary<string, (Principal Principal, DateTime Until)>.AlternateLookup<ReadOnlySpan<char>> KnownBySecret =>
        _known.GetAlternateLookup<ReadOnlySpan<char>>();

    private ConcurrentDictionary<string, DateTime>.AlternateLookup<ReadOnlySpan<char>> UnknownBySecret =>
        _unknown.GetAlternateLookup<ReadOnlySpan<char>>();

    public async Task<(TokenInfo Info, string Secret)> IssueAsync(string name, Role role, CancellationToken cancellationToken)
    {
        var (token, secret) = NewSecret(name, role);
        var info = await store.InsertAsync(token, cancellationToken);
        logger.LogInformation("Issued {Role} token {TokenId} ({Name})", role, info.TokenId, name);
        return (info, secret);
    }

    /// <summary>The first admin token, only when there is no live admin token (null then).</summary>
    public async Task<(TokenInfo Info, string Secret)?> IssueFirstAdminAsync(string name, CancellationToken cancellationToken)
    {
        var (token, secret) = NewSecret(name, Role.Admin);
        return await store.InsertFirstAdminAsync(token, cancellationToken) is { } info ? (info, secret) : null;
    }

    /// <summary>
    /// A new per-host credential for <paramref name="hostRef"/>; every earlier credential of the host is revoked in the
    /// same transaction (enrollments of one host are taken one at a time, so two of them cannot both stay live).
    /// </summary>
    public async Task<(TokenInfo Info, string Secret)> EnrollAsync(string hostRef, string name, CancellationToken cancellationToken)
    {
        var (token, secret) = NewSecret(name, Role.Agent, hostRef);
        var info = await store.EnrollAsync(token, cancellationToken);
        logger.LogInformation("Enrolled host {HostRef} with credential {TokenId}", hostRef, info.TokenId);
        await ForgetRevokedAsync(cancellationToken);
        return (info, secret);
    }

    /// <summary>
    /// A new credential for the host of <paramref name="current"/>, which keeps working until the new one is first used
    /// (see <see cref="LookUpAsync"/>): an agent that never received or stored the answer still has a working credential.
    /// Null when <paramref name="current"/> was revoked meanwhile.
    /// </summary>
    public async Task<(TokenInfo Info, string Secret)?> RotateAsync(Principal current, CancellationToken cancellationToken)
    {
        var hostRef = current.HostRef ?? throw new ArgumentException("only a per-host credential is rotated", nameof(current));
        var (token, secret) = NewSecret(current.Name, Role.Agent, hostRef, replacesOnUse: true);
        return await store.RotateAsync(current.TokenId, token, cancellationToken) is { } info ? (info, secret) : null;
    }

    public async Task<TokenInfo?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        var info = await store.RevokeAsync(tokenId, cancellationToken);
        await ForgetRevokedAsync(cancellationToken);
        if (info is not null) logger.LogInformation("Revoked token {TokenId}", tokenId);
        return info;
    }

    /// <summary>A token was revoked: this silo forgets its cached lookups at once, and tells the others.</summary>
    private async Task ForgetRevokedAsync(CancellationToken cancellationToken)
    {
        Invalidate();
        await store.NotifyRevokedAsync(cancellationToken);
    }

    public Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    /// <summary>Revokes every live credential of a host (it was retired); this silo forgets them at once, and tells the others.</summary>
    public async Task<int> RevokeHostAsync(string hostRef, CancellationToken cancellationToken)
    {
        var revoked = await store.RevokeHostAsync(hostRef, cancellationToken);
        await ForgetRevokedAsync(cancellationToken);
        return revoked;
    }

    /// <summary>The principal of a presented secret, or null when it is unknown or revoked.</summary>
    public ValueTask<Principal?> ValidateAsync(ReadOnlySpan<char> secret, CancellationToken cancellationToken)
    {
        // Keyed by the presented secret itself: a hit (nearly every call) hashes nothing and allocates nothing.
        var now = DateTime.UtcNow;
        if (KnownBySecret.TryGetValue(secret, out var known) && known.Until > now)
        {
            metrics.TokenLookedUp(TokenLookup.Hit);
            return ValueTask.FromResult<Principal?>(known.Principal);
        }

        // Something that cannot be a token is refused without a hash or a query.
        if (!LooksLikeSecret(secret))
        {
            metrics.TokenLookedUp(TokenLookup.Malformed);
            return ValueTask.FromResult<Principal?>(null);
        }

        if (UnknownBySecret.TryGetValue(secret, out var until) && until > now)
        {
            metrics.TokenLookedUp(TokenLookup.NegativeHit);
            return ValueTask.FromResult<Principal?>(null);
        }

        metrics.TokenLookedUp(TokenLookup.Miss);
        return LookUpAsync(secret.ToString(), cancellationToken);
    }

    private static bool LooksLikeSecret(ReadOnlySpan<char> secret) =>
        secret.Length == SecretLength && secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
        && !secret[SecretPrefix.Length..].ContainsAnyExcept(Base64UrlCharacters);

    private static readonly System.Buffers.SearchValues<char> Base64UrlCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private async ValueTask<Principal?> LookUpAsync(string secret, CancellationToken cancellationToken)
    {
        var generation = Interlocked.Read(ref _generation);
        await _lookups.WaitAsync(cancellationToken);
        Principal? principal;
        try
        {
            var found = await store.FindAsync(Hash(secret), cancellationToken);
            principal = found?.Principal;
            var replacesOnUse = found is { ReplacesOnUse: true };

            // A rotated credential's first use: the host's other credentials (the one it replaces, and any other
            // rotation never used) stop working now.
            if (replacesOnUse && principal is { HostRef: { } hostRef } && await store.TakeOverAsync(principal.TokenId, hostRef, cancellationToken))
            {
                await ForgetRevokedAsync(cancellationToken);
                logger.LogInformation("Credential {TokenId} of host {HostRef} used for the first time: the host's earlier credentials are revoked", principal.TokenId, hostRef);
            }
        }
        finally
        {
            _lookups.Release();
        }

        // A revocation while this lookup ran may concern this very token: then the answer is used once, not kept.
        if (Interlocked.Read(ref _generation) != generation) return principal;
        if (principal is not null) _known[secret] = (principal, DateTime.UtcNow + Positive);
        else RememberUnknown(secret);
        return principal;
    }

    private void RememberUnknown(string secret)
    {
        if (!_unknown.TryAdd(secret, DateTime.UtcNow + Negative)) return;
        _unknownOrder.Enqueue(secret);
        while (_unknown.Count > NegativeEntries && _unknownOrder.TryDequeue(out var oldest)) _unknown.TryRemove(oldest, out _);
    }

    string INotificationHandler.Channel => NotificationChannels.Tokens;

    bool INotificationHandler.RefreshWithoutNotice => false;

    /// <summary>
    /// Another silo revoked a token, or the listener just (re)connected. Cached lookups stay usable while PostgreSQL is
    /// away (no token can be revoked then); reconnecting clears them, in case a revocation was missed meanwhile.
    /// </summary>
    Task INotificationHandler.OnChangedAsync(CancellationToken cancellationToken)
    {
        Invalidate();
        return Task.CompletedTask;
    }

    /// <summary>Forgets every cached lookup (a token was revoked, here or on another silo).</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _known.Clear();
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (NewToken Token, string Secret) NewSecret(string name, Role role, string? hostRef = null, bool replacesOnUse = false)
    {
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var id = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        return (new NewToken(id, name, role, Hash(secret), hostRef, replacesOnUse), secret);
    }
}
