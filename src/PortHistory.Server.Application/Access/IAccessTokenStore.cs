using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Access;

/// <summary>A token to store: its secret only as a SHA-256 hash.</summary>
/// <param name="HostRef">For a per-host credential, the one host it reports for.</param>
/// <param name="RotatedFrom">A rotated credential: the credential it was issued to. Its first use revokes the host's other
/// credentials, and revoking the one it was issued to revokes it too.</param>
public sealed record NewToken(string Id, string Name, Role Role, byte[] Hash, string? HostRef = null, string? RotatedFrom = null)
{
    public bool ReplacesOnUse => RotatedFrom is not null;
}

/// <summary>A live token found by the hash of its secret.</summary>
public sealed record StoredToken(Principal Principal, bool ReplacesOnUse);

/// <summary>What an enrollment did: the new credential and the ids it revoked, or the live credential that stopped it.</summary>
public sealed record EnrollOutcome(TokenInfo? Enrolled, IReadOnlyList<string> Revoked, string? LiveCredential);

/// <summary>What a rotation did: the new credential, or the pending rotation that stopped it; both null when the caller was revoked meanwhile.</summary>
public sealed record RotateOutcome(TokenInfo? Rotated, TokenInfo? Pending);

/// <summary>A revocation: the token named, and every id it revoked (the rotations issued from it included).</summary>
public sealed record Revocation(TokenInfo Info, IReadOnlyList<string> Revoked);

/// <summary>
/// The access tokens as stored. Changes to one host's credentials (enroll, rotate, first use of a rotation) are taken
/// one at a time per host, so two of them can never both leave a live credential behind.
/// </summary>
public interface IAccessTokenStore
{
    Task<TokenInfo> InsertAsync(NewToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the host's new credential, in one transaction with revoking the host's live ones when
    /// <paramref name="takeOver"/>; without it, a host with a live credential is left as it is and that one named.
    /// </summary>
    Task<EnrollOutcome> EnrollAsync(NewToken token, bool takeOver, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a rotation of <see cref="NewToken.RotatedFrom"/>, unless the host has an unused rotation younger than
    /// <paramref name="pendingLifetime"/> (then that one is returned and nothing stored).
    /// </summary>
    Task<RotateOutcome> RotateAsync(NewToken token, TimeSpan pendingLifetime, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="token"/> only when no live admin token exists (silos starting together decide one at a
    /// time); null when one does.
    /// </summary>
    Task<TokenInfo?> InsertFirstAdminAsync(NewToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the token revoked (keeping the first revocation time), and every credential rotated from it, at any
    /// distance; null when there is no such token.
    /// </summary>
    Task<Revocation?> RevokeAsync(string tokenId, CancellationToken cancellationToken);

    /// <summary>Revokes every live credential of the host; the ones revoked.</summary>
    Task<IReadOnlyList<TokenInfo>> RevokeHostAsync(string hostRef, CancellationToken cancellationToken);

    Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The live token whose secret has this hash, or null. A rotation unused for longer than
    /// <paramref name="pendingLifetime"/> is not live.
    /// </summary>
    Task<StoredToken?> FindAsync(byte[] hash, TimeSpan pendingLifetime, CancellationToken cancellationToken);

    /// <summary>The token whose secret has this hash, live or revoked; null when there is none.</summary>
    Task<TokenInfo?> DescribeAsync(byte[] hash, CancellationToken cancellationToken);

    /// <summary>
    /// A rotated credential's first use: revokes the host's other credentials; the ids revoked, none when another
    /// silo did so first or the credential was revoked meanwhile.
    /// </summary>
    Task<IReadOnlyList<string>> TakeOverAsync(string tokenId, string hostRef, CancellationToken cancellationToken);

    /// <summary>
    /// Tells every silo which tokens were revoked (<see cref="Notifications.NotificationChannels.Tokens"/>), so that
    /// each forgets its cached lookups of those only.
    /// </summary>
    Task NotifyRevokedAsync(IReadOnlyCollection<string> tokenIds, CancellationToken cancellationToken);

    /// <summary>Deletes credentials revoked more than <paramref name="retention"/> ago; how many.</summary>
    Task<int> DeleteRevokedAsync(TimeSpan retention, CancellationToken cancellationToken);
}
