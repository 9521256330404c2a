using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Notifications;

namespace PortHistory.Server.Persistence.Access;

/// <summary>The access_tokens table. Changes to one host's credentials take a transaction-scoped advisory lock on the host.</summary>
public sealed partial class AccessTokenStore(NpgsqlDataSource dataSource) : IAccessTokenStore
{
    /// <summary>First key of the advisory locks that take one host's credential changes one at a time ("hostcred").</summary>
    private const int HostLockSpace = 0x686f7374;

    /// <summary>The lock under which silos starting together decide on the first admin token ("portadmn").</summary>
    private const long BootstrapLock = 0x706f7274_61646d6e;

    /// <summary>A NOTIFY payload holds at most 8000 bytes: more ids than fit are sent as "forget everything".</summary>
    private const int MaxPayload = 7900;

    private const string Columns = "token_id, name, role, created_at, revoked_at, host_ref";

    public async Task<TokenInfo> InsertAsync(NewToken token, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await InsertAsync(connection, null, token, cancellationToken);
    }

    public async Task<TokenInfo?> InsertFirstAdminAsync(NewToken token, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(@lock); SELECT count(*) FROM access_tokens WHERE role = @admin AND revoked_at IS NULL", connection, transaction))
        {
            command.Parameters.AddWithValue("lock", BootstrapLock);
            command.Parameters.AddWithValue("admin", (short)Role.Admin);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) > 0) return null;
        }

        var info = await InsertAsync(connection, transaction, token, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return info;
    }

    public async Task<Revocation?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Under the host's lock: a rotation from this credential either committed before (and is revoked here) or
        // finds it revoked.
        await using (var lockHost = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(@space, hashtext(host_ref)) FROM access_tokens WHERE token_id = @id AND host_ref IS NOT NULL", connection, transaction))
        {
            lockHost.Parameters.AddWithValue("space", HostLockSpace);
            lockHost.Parameters.AddWithValue("id", tokenId);
            await lockHost.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand($"""
            WITH RECURSIVE chain (token_id) AS (
                SELECT token_id FROM access_tokens WHERE token_id = @id
                UNION
                SELECT t.token_id FROM access_tokens t JOIN chain c ON t.rotated_from = c.token_id
            )
            UPDATE access_tokens a SET revoked_at = coalesce(a.revoked_at, now())
            FROM chain WHERE a.token_id = chain.token_id
            RETURNING {string.Join(", ", Columns.Split(", ").Select(c => "a." + c))};
            """, connection, transaction);
        command.Parameters.AddWithValue("id", tokenId);
        TokenInfo? named = null;
        var revoked = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var info = Read(reader);
                revoked.Add(info.TokenId);
                if (info.TokenId == tokenId) named = info;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return named is null ? null : new Revocation(named, revoked);
    }

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM access_tokens ORDER BY created_at, token_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<TokenInfo>();
        while (await reader.ReadAsync(cancellationToken)) tokens.Add(Read(reader));
        return tokens;
    }

    public async Task<StoredToken?> FindAsync(byte[] hash, TimeSpan pendingLifetime, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT token_id, name, role, host_ref, replaces_on_use FROM access_tokens
            WHERE token_hash = @hash AND revoked_at IS NULL AND NOT (replaces_on_use AND created_at <= now() - @lifetime)
            """);
        command.Parameters.AddWithValue("hash", hash);
        command.Parameters.AddWithValue("lifetime", pendingLifetime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var principal = new Principal(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2), reader.IsDBNull(3) ? null : reader.GetString(3));
        return new StoredToken(principal, reader.GetBoolean(4));
    }

    public async Task<TokenInfo?> DescribeAsync(byte[] hash, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM access_tokens WHERE token_hash = @hash");
        command.Parameters.AddWithValue("hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task NotifyRevokedAsync(IReadOnlyCollection<string> tokenIds, CancellationToken cancellationToken)
    {
        var payload = string.Join(',', tokenIds);
        // Listeners read an empty payload as "forget every cached lookup".
        if (payload.Length > MaxPayload) payload = "";
        await using var notify = dataSource.CreateCommand("SELECT pg_notify(@channel, @payload)");
        notify.Parameters.AddWithValue("channel", NotificationChannels.Tokens);
        notify.Parameters.AddWithValue("payload", payload);
        await notify.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> DeleteRevokedAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        // Per-host credentials only: the few tokens admins issued stay listed, revoked, as a record.
        await using var command = dataSource.CreateCommand("DELETE FROM access_tokens WHERE host_ref IS NOT NULL AND revoked_at < now() - @retention");
        command.Parameters.AddWithValue("retention", retention);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<TokenInfo> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewToken token, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO access_tokens (token_id, name, role, token_hash, host_ref, replaces_on_use, rotated_from)
            VALUES (@id, @name, @role, @hash, @host, @replaces, @from)
            RETURNING created_at
            """, connection, transaction);
        command.Parameters.AddWithValue("id", token.Id);
        command.Parameters.AddWithValue("name", token.Name);
        command.Parameters.AddWithValue("role", (short)token.Role);
        command.Parameters.AddWithValue("hash", token.Hash);
        command.Parameters.AddWithValue("host", (object?)token.HostRef ?? DBNull.Value);
        command.Parameters.AddWithValue("replaces", token.ReplacesOnUse);
        command.Parameters.AddWithValue("from", (object?)token.RotatedFrom ?? DBNull.Value);
        var created = (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
        return Info(token.Id, token.Name, token.Role, created, null, token.HostRef);
    }

    private static TokenInfo Read(NpgsqlDataReader reader) =>
        Info(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2), reader.GetDateTime(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4),
            reader.IsDBNull(5) ? null : reader.GetString(5));

    private static TokenInfo Info(string id, string name, Role role, DateTime created, DateTime? revoked, string? hostRef) => new()
    {
        TokenId = id,
        Name = name,
        Role = role,
        HostRef = hostRef ?? "",
        CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(created, DateTimeKind.Utc)),
        RevokedAt = revoked is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
    };
}
