using Npgsql;

namespace PortHistory.Testing;

/// <summary>
/// Holds grain state writes back in one database: the first <c>pass</c> writes to the grain storage table go through,
/// every later one waits (inside PostgreSQL, on an advisory lock this gate holds) until the gate opens. A test can so
/// stop an import partway through staging, however fast or slow the machine is, instead of racing it with a kill.
/// </summary>
public sealed class GrainWriteGate : IAsyncDisposable
{
    // A key of the gate's own, apart from the server's import, migration and session locks.
    private const long LockKey = 0x7068_6761_7465;

    private readonly NpgsqlDataSource _database;
    private readonly NpgsqlConnection _holder;
    private bool _open;

    private GrainWriteGate(NpgsqlDataSource database, NpgsqlConnection holder)
    {
        _database = database;
        _holder = holder;
    }

    /// <summary>Closes the gate behind the next <paramref name="pass"/> grain state writes of the database.</summary>
    public static async Task<GrainWriteGate> CloseAsync(NpgsqlDataSource database, int pass)
    {
        var holder = await database.OpenConnectionAsync();
        await Execute(holder, $"SELECT pg_advisory_lock({LockKey})");
        await Execute(holder, $"""
            CREATE SEQUENCE gate_writes;
            CREATE FUNCTION gate_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('gate_writes') > {pass} THEN
                    PERFORM pg_advisory_xact_lock_shared({LockKey});
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER gate_write BEFORE INSERT OR UPDATE ON orleansstorage FOR EACH ROW EXECUTE FUNCTION gate_write();
            """);
        return new GrainWriteGate(database, holder);
    }

    /// <summary>The server process of the gate's own connection, which holds the lock (a test that kills connections spares it).</summary>
    public int HolderPid => _holder.ProcessID;

    /// <summary>Waits until at least one write is held at the gate: everything before it has gone through.</summary>
    public Task ReachedAsync(TimeSpan timeout) => Eventually.Async(async () =>
    {
        await using var command = _database.CreateCommand($"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = {LockKey >> 32} AND objid = {LockKey & 0xFFFF_FFFF}");
        return (long)(await command.ExecuteScalarAsync())!;
    }, waiting => waiting > 0, timeout);

    /// <summary>Lets the held writes go on and removes the gate.</summary>
    public async Task OpenAsync()
    {
        if (_open) return;
        _open = true;
        await Execute(_holder, $"SELECT pg_advisory_unlock({LockKey})");
        await Execute(_holder, "DROP TRIGGER gate_write ON orleansstorage; DROP FUNCTION gate_write(); DROP SEQUENCE gate_writes");
    }

    public async ValueTask DisposeAsync()
    {
        await OpenAsync();
        await _holder.DisposeAsync();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
