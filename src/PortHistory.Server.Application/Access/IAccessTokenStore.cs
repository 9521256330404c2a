using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Access;

/// <summary>A token to store: its secret only as a SHA-256 hash.</summary>
/// <param name="HostRef">For a per-host credential, the one host it reports for.</param>
/// <param name="ReplacesOnUse">A rotated credential: its first use revokes the host's other credentials.</param>
public sealed record NewToken(string Id, string Name, Role Role, byte[] Hash, string? HostRef = null, bool ReplacesOnUse = false);

/// <summary>A live token found by the hash of its secret.</summary>
public sealed record StoredToken(Principal Principal, bool ReplacesOnUse);

/// <summary>
/// The access tokens as stored. Changes to one host's credentials (enroll, rotate, first use of a rotation) are taken
/// one at a time per host, so two of them can never both leave a live credential behind.
/// </summary>
public interface IAccessTokenStore
{
    Task<TokenInfo> InsertAsync(NewToken token, CancellationToken cancellationToken);

    /// <summary>Stores the host's new credential and revokes every earlier one of the host, in one transaction.</summary>
    Task<TokenInfo> EnrollAsync(NewToken token, CancellationToken cancellationToken);

    /// <summary>Stores a rotation of <paramref name="currentTokenId"/>; null (and nothing stored) when that one was revoked meanwhile.</summary>
    Task<TokenInfo?> RotateAsync(string currentTokenId, NewToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="token"/> only when no live admin token exists (silos starting together decide one at a
    /// time); null when one does.
    /// </summary>
    Task<TokenInfo?> InsertFirstAdminAsync(NewToken token, CancellationToken cancellationToken);

    /// <summary>Marks the token revoked (keeping the first revocation time); null when there is no such token.</summary>
    Task<TokenInfo?> RevokeAsync(string tokenId, CancellationToken cancellationToken);

    /// <summary>Marks every live credential of the host revoked; returns how many.</summary>
    Task<int> RevokeHostAsync(string hostRef, CancellationToken cancellationToken);

    Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The live token whose secret has this hash, or null.</summary>
    Task<StoredToken?> FindAsync(byte[] hash, CancellationToken cancellationToken);

    /// <summary>
    /// A rotated credential's first use: revokes the host's other credentials; false when another silo did so first
    /// or the credential was revoked meanwhile.
    /// </summary>
    Task<bool> TakeOverAsync(string tokenId, string hostRef, CancellationToken cancellationToken);

    /// <summary>Tells every silo that tokens were revoked (<see cref="Notifications.NotificationChannels.Tokens"/>).</summary>
    Task NotifyRevokedAsync(CancellationToken cancellationToken);
}
