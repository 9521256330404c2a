using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Persistence.Access;

/// <summary>One host's credentials: enrolling, rotating, a rotation's first use, revoking the host; each under the host's lock.</summary>
public sealed partial class AccessTokenStore
{
    public async Task<EnrollOutcome> EnrollAsync(NewToken token, bool takeOver, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockHostAsync(connection, transaction, token.HostRef!, cancellationToken);
        var revoked = new List<string>();
        await using (var live = new NpgsqlCommand(takeOver
            ? "UPDATE access_tokens SET revoked_at = now() WHERE host_ref = @host AND revoked_at IS NULL RETURNING token_id"
            : "SELECT token_id FROM access_tokens WHERE host_ref = @host AND revoked_at IS NULL ORDER BY created_at DESC", connection, transaction))
        {
            live.Parameters.AddWithValue("host", token.HostRef!);
            await using var reader = await live.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) revoked.Add(reader.GetString(0));
        }

        if (!takeOver && revoked.Count > 0) return new EnrollOutcome(null, [], revoked[0]);
        var info = await InsertAsync(connection, transaction, token, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new EnrollOutcome(info, revoked, null);
    }

    public async Task<RotateOutcome> RotateAsync(NewToken token, TimeSpan pendingLifetime, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockHostAsync(connection, transaction, token.HostRef!, cancellationToken);
        await using (var check = new NpgsqlCommand($"""
            SELECT count(*) FROM access_tokens WHERE token_id = @id AND host_ref = @host AND revoked_at IS NULL;
            SELECT {Columns} FROM access_tokens
            WHERE host_ref = @host AND revoked_at IS NULL AND replaces_on_use AND created_at > now() - @lifetime
            ORDER BY created_at LIMIT 1;
            """, connection, transaction))
        {
            check.Parameters.AddWithValue("host", token.HostRef!);
            check.Parameters.AddWithValue("id", token.RotatedFrom!);
            check.Parameters.AddWithValue("lifetime", pendingLifetime);
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) == 0) return new RotateOutcome(null, null);
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken)) return new RotateOutcome(null, Read(reader));
        }

        var info = await InsertAsync(connection, transaction, token, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RotateOutcome(info, null);
    }

    public async Task<IReadOnlyList<TokenInfo>> RevokeHostAsync(string hostRef, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockHostAsync(connection, transaction, hostRef, cancellationToken);
        await using var command = new NpgsqlCommand(
            $"UPDATE access_tokens SET revoked_at = now() WHERE host_ref = @host AND revoked_at IS NULL RETURNING {Columns}", connection, transaction);
        command.Parameters.AddWithValue("host", hostRef);
        var revoked = new List<TokenInfo>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) revoked.Add(Read(reader));
        }

        await transaction.CommitAsync(cancellationToken);
        return revoked;
    }

    public async Task<IReadOnlyList<string>> TakeOverAsync(string tokenId, string hostRef, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockHostAsync(connection, transaction, hostRef, cancellationToken);
        var revoked = new List<string>();
        await using (var command = new NpgsqlCommand("""
            UPDATE access_tokens SET revoked_at = now()
            WHERE host_ref = @host AND token_id <> @id AND revoked_at IS NULL
              AND EXISTS (SELECT 1 FROM access_tokens WHERE token_id = @id AND replaces_on_use AND revoked_at IS NULL)
            RETURNING token_id;
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("host", hostRef);
            command.Parameters.AddWithValue("id", tokenId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) revoked.Add(reader.GetString(0));
        }

        await using (var used = new NpgsqlCommand("UPDATE access_tokens SET replaces_on_use = false WHERE token_id = @id AND revoked_at IS NULL", connection, transaction))
        {
            used.Parameters.AddWithValue("id", tokenId);
            await used.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return revoked;
    }

    private static async Task LockHostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string hostRef, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@space, hashtext(@host))", connection, transaction);
        command.Parameters.AddWithValue("space", HostLockSpace);
        command.Parameters.AddWithValue("host", hostRef);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
