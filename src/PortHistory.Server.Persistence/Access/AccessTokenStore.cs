using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Notifications;

namespace PortHistory.Server.Persistence.Access;

/// <summary>The access_tokens table. Changes to one host's credentials take a transaction-scoped advisory lock on the host.</summary>
public sealed class AccessTokenStore(NpgsqlDataSource dataSource) : IAccessTokenStore
{
    /// <summary>First key of the advisory locks that take one host's credential changes one at a time ("hostcred").</summary>
    private const int HostLockSpace = 0x686f7374;

    /// <summary>The lock under which silos starting together decide on the first admin token ("portadmn").</summary>
    private const long BootstrapLock = 0x706f7274_61646d6e;

    private const string Columns = "token_id, name, role, created_at, revoked_at, host_ref";

    public async Task<TokenInfo> InsertAsync(NewToken token, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await InsertAsync(connection, null, token, cancellationToken);
    }

    public async Task<TokenInfo> EnrollAsync(NewToken token, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var revoke = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@space, hashtext(@host));
            UPDATE access_tokens SET revoked_at = now() WHERE host_ref = @host AND revoked_at IS NULL;
            """, connection, transaction))
        {
            revoke.Parameters.AddWithValue("space", HostLockSpace);
            revoke.Parameters.AddWithValue("host", token.HostRef!);
            await revoke.ExecuteNonQueryAsync(cancellationToken);
        }

        var info = await InsertAsync(connection, transaction, token, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return info;
    }

    public async Task<TokenInfo?> RotateAsync(string currentTokenId, NewToken token, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var check = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@space, hashtext(@host));
            SELECT count(*) FROM access_tokens WHERE token_id = @id AND host_ref = @host AND revoked_at IS NULL;
            """, connection, transaction))
        {
            check.Parameters.AddWithValue("space", HostLockSpace);
            check.Parameters.AddWithValue("host", token.HostRef!);
            check.Parameters.AddWithValue("id", currentTokenId);
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) == 0) return null;
        }

        var info = await InsertAsync(connection, transaction, token, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return info;
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

    public async Task<TokenInfo?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE access_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_id = @id
            RETURNING {Columns};
            """);
        command.Parameters.AddWithValue("id", tokenId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<int> RevokeHostAsync(string hostRef, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int revoked;
        await using (var command = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@space, hashtext(@host));
            WITH revoked AS (UPDATE access_tokens SET revoked_at = now() WHERE host_ref = @host AND revoked_at IS NULL RETURNING 1)
            SELECT count(*)::int FROM revoked;
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("space", HostLockSpace);
            command.Parameters.AddWithValue("host", hostRef);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            revoked = reader.GetInt32(0);
        }

        await transaction.CommitAsync(cancellationToken);
        return revoked;
    }

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM access_tokens ORDER BY created_at, token_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<TokenInfo>();
        while (await reader.ReadAsync(cancellationToken)) tokens.Add(Read(reader));
        return tokens;
    }

    public async Task<StoredToken?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT token_id, name, role, host_ref, replaces_on_use FROM access_tokens WHERE token_hash = @hash AND revoked_at IS NULL");
        command.Parameters.AddWithValue("hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var principal = new Principal(reader.GetString(0), reader.GetString(1), (Role)reader.GetInt16(2), reader.IsDBNull(3) ? null : reader.GetString(3));
        return new StoredToken(principal, reader.GetBoolean(4));
    }

    public async Task<bool> TakeOverAsync(string tokenId, string hostRef, CancellationToken cancellationToken)
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

    public async Task NotifyRevokedAsync(CancellationToken cancellationToken)
    {
        await using var notify = dataSource.CreateCommand($"NOTIFY {NotificationChannels.Tokens}");
        await notify.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<TokenInfo> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewToken token, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO access_tokens (token_id, name, role, token_hash, host_ref, replaces_on_use) VALUES (@id, @name, @role, @hash, @host, @replaces)
            RETURNING created_at
            """, connection, transaction);
        command.Parameters.AddWithValue("id", token.Id);
        command.Parameters.AddWithValue("name", token.Name);
        command.Parameters.AddWithValue("role", (short)token.Role);
        command.Parameters.AddWithValue("hash", token.Hash);
        command.Parameters.AddWithValue("host", (object?)token.HostRef ?? DBNull.Value);
        command.Parameters.AddWithValue("replaces", token.ReplacesOnUse);
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
