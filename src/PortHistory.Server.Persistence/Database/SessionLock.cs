using Npgsql;

namespace PortHistory.Server.Persistence.Database;

/// <summary>
/// A session advisory lock held on a connection of its own: one silo of the cluster does a job at a time, and once
/// that connection is gone the lock is too (another silo takes over). Work that must stop with the lock runs on
/// <see cref="Connection"/>.
/// </summary>
public sealed class SessionLock : IAsyncDisposable
{
    /// <summary>The lock space of the cluster's background jobs (one silo at a time each), keyed by the job's name ("jobs").</summary>
    public const int JobSpace = 0x6a6f6273;

    private SessionLock(NpgsqlConnection connection) => Connection = connection;

    public NpgsqlConnection Connection { get; }

    /// <summary>The lock (<paramref name="space"/>, <paramref name="key"/>), or null when another session holds it.</summary>
    public static async Task<SessionLock?> TryAcquireAsync(NpgsqlDataSource dataSource, int space, string key, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@space, hashtext(@key))", connection);
            command.Parameters.AddWithValue("space", space);
            command.Parameters.AddWithValue("key", key);
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!) return new SessionLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // The connection goes back to the pool, its session with it: the lock must not stay held there.
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", Connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The connection is gone, and the session lock with it.
        }
        finally
        {
            await Connection.DisposeAsync();
        }
    }
}
