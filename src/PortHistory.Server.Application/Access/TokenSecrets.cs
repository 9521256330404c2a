using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Access;

/// <summary>The shape of a token's secret, its stored hash, and new secrets.</summary>
public static class TokenSecrets
{
    private const string Prefix = "ph_";
    private const int Length = 46; // "ph_" and 32 random bytes in unpadded base64url

    private static readonly SearchValues<char> Base64UrlCharacters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Whether the text could be a secret this server issued: anything else is refused without a hash or a query.</summary>
    public static bool LooksLikeSecret(ReadOnlySpan<char> secret) =>
        secret.Length == Length && secret.StartsWith(Prefix, StringComparison.Ordinal) && !secret[Prefix.Length..].ContainsAnyExcept(Base64UrlCharacters);

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A token to store for <paramref name="secret"/>, with a new id.</summary>
    public static NewToken NewToken(string secret, string name, Role role, string? hostRef = null, string? rotatedFrom = null) =>
        new("tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), name, role, Hash(secret), hostRef, rotatedFrom);
}
