using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Infrastructure.Database;

namespace PortHistory.Server.Infrastructure.Access;

/// <summary>Who is calling: the token's id, name and role.</summary>
public sealed record Principal(string TokenId, string Name, Role Role)
{
    public bool IsAdmin => Role == Role.Admin;
}

/// <summary>
/// Bearer tokens in PostgreSQL, stored as SHA-256 hashes. Lookups are cached per silo; a revocation clears this
/// silo's cache at once and tells the other silos through a notification, so a revoked token stops working at once.
/// </summary>
public sealed class AccessTokens(NpgsqlDataSource dataSource, ILogger<AccessTokens> logger) : INotificationHandler
{
    public const string Channel = "porthistory_tokens";
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
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await IssueAsync(connection, name, role, cancellationToken);
    }

    /// <summary>Issues a token on the caller's connection (inside its transaction, if it has one).</summary>
    internal async Task<(TokenInfo Info, string Secret)> IssueAsync(NpgsqlConnection connection, string name, Role role, CancellationToken cancellationToken)
    {
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var id = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await using var command = new NpgsqlCommand(
            "INSERT INTO access_tokens (token_id, name, role, token_hash) VALUES (@id, @name, @role, @hash) RETURNING created_at", connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("role", (short)role);
        command.Parameters.AddWithValue("hash", Hash(secret));
        var created = (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
        logger.LogInformation("Issued {Role} token {TokenId} ({Name})", role, id, name);
        return (Info(id, name, role, created, null), secret);
    }

    public async Task<TokenInfo?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE access_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_id = @id
            RETURNING token_id, name, role, created_at, revoked_at;
            """);
        command.Parameters.AddWithValue("id", tokenId);
        TokenInfo? info = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken)) info = Read(reader);
        }

        Invalidate();
        await using (var notify = dataSource.CreateCommand($"NOTIFY {Channel}"))
        {
            await notify.ExecuteNonQueryAsync(cancellationToken);
        }

        if (info is not null) logger.LogInformation("Revoked token {TokenId}", tokenId);
        return info;
    }

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT token_id, name, role, created_at, revoked_at FROM access_tokens ORDER BY created_at, token_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<TokenInfo>();
        while (await reader.ReadAsync(cancellationToken)) tokens.Add(Read(reader));
        return tokens;
    }

    /// <summary>The principal of a presented secret, or null when it is unknown or revoked.</summary>
    public ValueTask<Principal?> ValidateAsync(ReadOnlySpan<char> secret, CancellationToken cancellationToken)
    {
        // Keyed by the presented secret itself: a hit (nearly every call) hashes nothing and allocates nothing.
        var now = DateTime.UtcNow;
        if (KnownBySecret.TryGetValue(secret, out var known) && known.Until > now) return ValueTask.FromResult<Principal?>(known.Principal);
        // Something that cannot be a token is refused without a hash or a query.
        if (!LooksLikeSecret(secret)) return ValueTask.FromResult<Principal?>(null);
        if (UnknownBySecret.TryGetValue(secret, out var until) && until > now) return ValueTask.FromResult<Principal?>(null);
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
            var hash = Hash(secret);
            await using var command = dataSource.CreateCommand("SELECT token_id, name, role FROM access_tokens WHERE token_hash = @hash AND revoked_at IS NULL");
            command.Parameters.AddWithValue("hash", hash);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            principal = await reader.ReadAsync(cancellationToken) ? new Principal(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2)) : null;
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

    string INotificationHandler.Channel => Channel;

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

    private static TokenInfo Read(NpgsqlDataReader reader) =>
        Info(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2), reader.GetDateTime(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4));

    private static TokenInfo Info(string id, string name, Role role, DateTime created, DateTime? revoked) => new()
    {
        TokenId = id,
        Name = name,
        Role = role,
        CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(created, DateTimeKind.Utc)),
        RevokedAt = revoked is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
    };
}
