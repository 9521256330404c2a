using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Infrastructure.Database;
using PortHistory.Server.Infrastructure.Telemetry;

namespace PortHistory.Server.Infrastructure.Access;

/// <summary>Who is calling: the token's id, name and role, and for a per-host credential the one host it reports for.</summary>
public sealed record Principal(string TokenId, string Name, Role Role, string? HostRef = null)
{
    public bool IsAdmin => Role == Role.Admin;
}

/// <summary>
/// Bearer tokens in PostgreSQL, stored as SHA-256 hashes. Lookups are cached per silo; a revocation clears this
/// silo's cache at once and tells the other silos through a notification, so a revoked token stops working at once.
/// </summary>
public sealed class AccessTokens(NpgsqlDataSource dataSource, PortHistoryMetrics metrics, ILogger<AccessTokens> logger) : INotificationHandler
{
    public const string Channel = "porthistory_tokens";
    private static readonly TimeSpan Positive = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Negative = TimeSpan.FromSeconds(30);
    private const string SecretPrefix = "ph_";
    private const int SecretLength = 46; // "ph_" and 32 random bytes in unpadded base64url

    /// <summary>First key of the advisory locks that take one host's credential changes one at a time ("hostcred").</summary>
    private const int HostLockSpace = 0x686f7374;

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
    internal async Task<(TokenInfo Info, string Secret)> IssueAsync(NpgsqlConnection connection, string name, Role role, CancellationToken cancellationToken,
        string? hostRef = null, bool replacesOnUse = false)
    {
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var id = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await using var command = new NpgsqlCommand("""
            INSERT INTO access_tokens (token_id, name, role, token_hash, host_ref, replaces_on_use) VALUES (@id, @name, @role, @hash, @host, @replaces)
            RETURNING created_at
            """, connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("role", (short)role);
        command.Parameters.AddWithValue("hash", Hash(secret));
        command.Parameters.AddWithValue("host", (object?)hostRef ?? DBNull.Value);
        command.Parameters.AddWithValue("replaces", replacesOnUse);
        var created = (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
        logger.LogInformation("Issued {Role} token {TokenId} ({Name})", role, id, name);
        return (Info(id, name, role, created, null, hostRef), secret);
    }

    /// <summary>
    /// A new per-host credential for <paramref name="hostRef"/>; every earlier credential of the host is revoked in the
    /// same transaction (enrollments of one host are taken one at a time, so two of them cannot both stay live).
    /// </summary>
    public async Task<(TokenInfo Info, string Secret)> EnrollAsync(string hostRef, string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var revoke = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@space, hashtext(@host));
            UPDATE access_tokens SET revoked_at = now() WHERE host_ref = @host AND revoked_at IS NULL;
            """, connection, transaction))
        {
            revoke.Parameters.AddWithValue("space", HostLockSpace);
            revoke.Parameters.AddWithValue("host", hostRef);
            await revoke.ExecuteNonQueryAsync(cancellationToken);
        }

        var issued = await IssueAsync(connection, name, Role.Agent, cancellationToken, hostRef, replacesOnUse: false);
        await transaction.CommitAsync(cancellationToken);
        await ForgetRevokedAsync(cancellationToken);
        return issued;
    }

    /// <summary>
    /// A new credential for the host of <paramref name="current"/>, which keeps working until the new one is first used
    /// (see <see cref="LookUpAsync"/>): an agent that never received or stored the answer still has a working credential.
    /// Null when <paramref name="current"/> was revoked meanwhile.
    /// </summary>
    public async Task<(TokenInfo Info, string Secret)?> RotateAsync(Principal current, CancellationToken cancellationToken)
    {
        var hostRef = current.HostRef ?? throw new ArgumentException("only a per-host credential is rotated", nameof(current));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var check = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@space, hashtext(@host));
            SELECT count(*) FROM access_tokens WHERE token_id = @id AND host_ref = @host AND revoked_at IS NULL;
            """, connection, transaction))
        {
            check.Parameters.AddWithValue("space", HostLockSpace);
            check.Parameters.AddWithValue("host", hostRef);
            check.Parameters.AddWithValue("id", current.TokenId);
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) == 0) return null;
        }

        var issued = await IssueAsync(connection, current.Name, Role.Agent, cancellationToken, hostRef, replacesOnUse: true);
        await transaction.CommitAsync(cancellationToken);
        return issued;
    }

    public async Task<TokenInfo?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE access_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_id = @id
            RETURNING token_id, name, role, created_at, revoked_at, host_ref;
            """);
        command.Parameters.AddWithValue("id", tokenId);
        TokenInfo? info = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken)) info = Read(reader);
        }

        await ForgetRevokedAsync(cancellationToken);
        if (info is not null) logger.LogInformation("Revoked token {TokenId}", tokenId);
        return info;
    }

    /// <summary>A token was revoked: this silo forgets its cached lookups at once, and tells the others.</summary>
    private async Task ForgetRevokedAsync(CancellationToken cancellationToken)
    {
        Invalidate();
        await using var notify = dataSource.CreateCommand($"NOTIFY {Channel}");
        await notify.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT token_id, name, role, created_at, revoked_at, host_ref FROM access_tokens ORDER BY created_at, token_id");
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
            var hash = Hash(secret);
            bool replacesOnUse;
            await using (var command = dataSource.CreateCommand(
                             "SELECT token_id, name, role, host_ref, replaces_on_use FROM access_tokens WHERE token_hash = @hash AND revoked_at IS NULL"))
            {
                command.Parameters.AddWithValue("hash", hash);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                var found = await reader.ReadAsync(cancellationToken);
                principal = found
                    ? new Principal(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2), reader.IsDBNull(3) ? null : reader.GetString(3))
                    : null;
                replacesOnUse = found && reader.GetBoolean(4);
            }

            // A rotated credential's first use: the host's other credentials (the one it replaces, and any other
            // rotation never used) stop working now.
            if (replacesOnUse && principal is { HostRef: { } hostRef } && await TakeOverAsync(principal.TokenId, hostRef, cancellationToken))
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

    /// <summary>Revokes every other credential of the host; false when another silo did so first, or this one was revoked.</summary>
    private async Task<bool> TakeOverAsync(string tokenId, string hostRef, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var takeOver = new NpgsqlBatchCommand("UPDATE access_tokens SET replaces_on_use = false WHERE token_id = @id AND replaces_on_use AND revoked_at IS NULL");
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(@space, hashtext(@host))"),
                new NpgsqlBatchCommand("""
                    UPDATE access_tokens SET revoked_at = now()
                    WHERE host_ref = @host AND token_id <> @id AND revoked_at IS NULL
                      AND EXISTS (SELECT 1 FROM access_tokens WHERE token_id = @id AND replaces_on_use AND revoked_at IS NULL)
                    """),
                takeOver,
            },
        };
        foreach (NpgsqlBatchCommand command in batch.BatchCommands)
        {
            command.Parameters.AddWithValue("space", HostLockSpace);
            command.Parameters.AddWithValue("host", hostRef);
            command.Parameters.AddWithValue("id", tokenId);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return takeOver.RecordsAffected == 1;
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
        Info(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2), reader.GetDateTime(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4),
            reader.IsDBNull(5) ? null : reader.GetString(5));

    private static TokenInfo Info(string id, string name, Role role, DateTime created, DateTime? revoked, string? hostRef = null) => new()
    {
        TokenId = id,
        Name = name,
        Role = role,
        HostRef = hostRef ?? "",
        CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(created, DateTimeKind.Utc)),
        RevokedAt = revoked is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
    };
}
