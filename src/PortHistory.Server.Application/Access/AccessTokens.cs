using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Bearer tokens, stored as SHA-256 hashes: issued, revoked (with every credential rotated from them) and listed.
/// A revocation reaches every silo's cache at once (<see cref="TokenValidator"/>).
/// </summary>
public sealed class AccessTokens(IAccessTokenStore store, TokenValidator validator, ILogger<AccessTokens> logger)
{
    public Task<(TokenInfo Info, string Secret)> IssueAsync(string name, Role role, CancellationToken cancellationToken) =>
        IssueAsync(name, role, TokenSecrets.NewSecret(), cancellationToken);

    /// <summary>Issues a token for a secret made beforehand (one already written where its holder will read it).</summary>
    public async Task<(TokenInfo Info, string Secret)> IssueAsync(string name, Role role, string secret, CancellationToken cancellationToken)
    {
        var info = await store.InsertAsync(TokenSecrets.NewToken(secret, name, role), cancellationToken);
        logger.LogInformation("Issued {Role} token {TokenId} ({Name})", role, info.TokenId, name);
        return (info, secret);
    }

    /// <summary>The first admin token for <paramref name="secret"/>, only when there is no live admin token (null then).</summary>
    public Task<TokenInfo?> IssueFirstAdminAsync(string name, string secret, CancellationToken cancellationToken) =>
        store.InsertFirstAdminAsync(TokenSecrets.NewToken(secret, name, Role.Admin), cancellationToken);

    /// <summary>Revokes the token and every credential rotated from it; null when there is no such token.</summary>
    public async Task<TokenInfo?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        if (await store.RevokeAsync(tokenId, cancellationToken) is not { } revocation) return null;
        await validator.ForgetAsync(revocation.Revoked, cancellationToken);
        logger.LogInformation("Revoked token {TokenId}{Also}", tokenId,
            revocation.Revoked.Count > 1 ? $" and the credentials rotated from it: {string.Join(", ", revocation.Revoked.Where(id => id != tokenId))}" : "");
        return revocation.Info;
    }

    public Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    /// <summary>The token of a secret, live or revoked; null when the database knows none.</summary>
    public Task<TokenInfo?> DescribeAsync(string secret, CancellationToken cancellationToken) =>
        store.DescribeAsync(TokenSecrets.Hash(secret), cancellationToken);
}
