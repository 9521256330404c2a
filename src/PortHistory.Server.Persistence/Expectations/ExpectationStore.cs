using Google.Protobuf.WellKnownTypes;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Expectations;
using PortHistory.Server.Application.Notifications;

namespace PortHistory.Server.Persistence.Expectations;

/// <summary>
/// The expectations table. Every write runs in one transaction that first bumps the version row (so writers queue
/// behind each other and every change has a version of its own) and ends with a NOTIFY to every silo's cache.
/// </summary>
public sealed class ExpectationStore(NpgsqlDataSource dataSource) : IExpectationStore
{
    private const int MaxExpectations = IExpectationStore.MaxExpectations;
    private const int MaxPerPort = IExpectationStore.MaxPerPort;

    private const string Columns = "port, transport, process, host_group, note, set_by, set_at";

    public async Task<(long Version, IReadOnlyList<Expectation> Expectations)> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        long version;
        await using (var command = new NpgsqlCommand("SELECT version FROM expectations_version", connection, transaction))
        {
            version = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        var all = await ReadAllAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (version, all);
    }

    /// <summary>Adds the expectation or updates its note. Returns it as stored, and whether it is new.</summary>
    public async Task<(Expectation Stored, bool Created, ExpectationChange Change)> SetAsync(Expectation expectation, string setBy,
        CancellationToken cancellationToken)
    {
        await using var write = await BeginAsync(cancellationToken);
        var existing = await write.FindAsync(expectation);
        if (existing is not null && existing.Note == expectation.Note)
        {
            return (existing, false, ExpectationChange.None(write.Version - 1, write.CountBefore == 0));
        }

        if (existing is null)
        {
            if (write.CountBefore >= MaxExpectations) throw new ExpectationLimitException($"at most {MaxExpectations} expectations are kept");
            if (await write.CountAtAsync(expectation.Port, expectation.Transport) >= MaxPerPort)
            {
                throw new ExpectationLimitException($"at most {MaxPerPort} expectations per port and transport are kept");
            }
        }

        var stored = await write.UpsertAsync(expectation, setBy);
        return (stored, existing is null, await write.CommitAsync([(int)expectation.Port]));
    }

    /// <summary>Removes one expectation; null when there is none.</summary>
    public async Task<(Expectation? Removed, ExpectationChange Change)> RemoveAsync(Expectation key, CancellationToken cancellationToken)
    {
        await using var write = await BeginAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"DELETE FROM expectations WHERE port = @port AND transport = @transport AND process = @process AND host_group = @group RETURNING {Columns}",
            write.Connection, write.Transaction);
        Key(command, key);
        Expectation? removed = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken)) removed = Read(reader);
        }

        if (removed is null) return (null, ExpectationChange.None(write.Version - 1, write.CountBefore == 0));
        return (removed, await write.CommitAsync([(int)key.Port]));
    }

    /// <summary>Makes the stored set exactly <paramref name="wanted"/> (keys unique, checked by the caller) and says what changed.</summary>
    public async Task<(ReplaceExpectationsResponse Report, ExpectationChange Change)> ReplaceAsync(IReadOnlyList<Expectation> wanted, string setBy, bool dryRun,
        CancellationToken cancellationToken)
    {
        await using var write = await BeginAsync(cancellationToken);
        var current = (await ReadAllAsync(write.Connection, write.Transaction, cancellationToken)).ToDictionary(KeyOf);
        var report = new ReplaceExpectationsResponse();
        var wantedKeys = new HashSet<(uint, Transport, string, string)>();
        foreach (var expectation in wanted)
        {
            wantedKeys.Add(KeyOf(expectation));
            if (!current.TryGetValue(KeyOf(expectation), out var existing)) report.Added.Add(expectation);
            else if (existing.Note != expectation.Note) report.Changed.Add(expectation);
            else report.Unchanged++;
        }

        report.Removed.AddRange(current.Values.Where(e => !wantedKeys.Contains(KeyOf(e))));
        if (dryRun || report.Added.Count + report.Changed.Count + report.Removed.Count == 0)
        {
            return (report, ExpectationChange.None(write.Version - 1, write.CountBefore == 0));
        }

        foreach (var removed in report.Removed)
        {
            await using var command = new NpgsqlCommand(
                "DELETE FROM expectations WHERE port = @port AND transport = @transport AND process = @process AND host_group = @group",
                write.Connection, write.Transaction);
            Key(command, removed);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var written = new List<Expectation>();
        foreach (var expectation in report.Added.Concat(report.Changed)) written.Add(await write.UpsertAsync(expectation, setBy));
        // The report shows what is stored now (set_by, set_at) for what was written.
        var byKey = written.ToDictionary(KeyOf);
        foreach (var list in new[] { report.Added, report.Changed })
        {
            for (var i = 0; i < list.Count; i++) list[i] = byKey[KeyOf(list[i])];
        }

        IReadOnlyList<int> ports = [.. report.Added.Concat(report.Changed).Concat(report.Removed).Select(e => (int)e.Port).Distinct()];
        return (report, await write.CommitAsync(ports));
    }

    private static (uint, Transport, string, string) KeyOf(Expectation e) => (e.Port, e.Transport, e.Process, e.HostGroup);

    private static void Key(NpgsqlCommand command, Expectation key)
    {
        command.Parameters.AddWithValue("port", (int)key.Port);
        command.Parameters.AddWithValue("transport", (short)key.Transport);
        command.Parameters.AddWithValue("process", key.Process);
        command.Parameters.AddWithValue("group", key.HostGroup);
    }

    private static Expectation Read(NpgsqlDataReader reader) => new()
    {
        Port = (uint)reader.GetInt32(0),
        Transport = (Transport)reader.GetInt16(1),
        Process = reader.GetString(2),
        HostGroup = reader.GetString(3),
        Note = reader.GetString(4),
        SetBy = reader.GetString(5),
        SetAt = Timestamp.FromDateTime(reader.GetFieldValue<DateTime>(6)),
    };

    private static async Task<List<Expectation>> ReadAllAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM expectations ORDER BY port, transport, process, host_group", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var all = new List<Expectation>();
        while (await reader.ReadAsync(cancellationToken)) all.Add(Read(reader));
        return all;
    }

    private async Task<Write> BeginAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long version, count;
        await using (var bump = new NpgsqlCommand("UPDATE expectations_version SET version = version + 1 RETURNING version", connection, transaction))
        {
            version = (long)(await bump.ExecuteScalarAsync(cancellationToken))!;
        }

        await using (var counting = new NpgsqlCommand("SELECT count(*) FROM expectations", connection, transaction))
        {
            count = (long)(await counting.ExecuteScalarAsync(cancellationToken))!;
        }

        return new Write(connection, transaction, version, count, cancellationToken);
    }

    /// <summary>One write transaction; disposed without <see cref="CommitAsync"/> it rolls back (the version bump too).</summary>
    private sealed class Write(NpgsqlConnection connection, NpgsqlTransaction transaction, long version, long countBefore, CancellationToken cancellationToken)
        : IAsyncDisposable
    {
        public NpgsqlConnection Connection => connection;
        public NpgsqlTransaction Transaction => transaction;
        public long Version => version;
        public long CountBefore => countBefore;

        public async Task<Expectation?> FindAsync(Expectation key)
        {
            await using var command = new NpgsqlCommand(
                $"SELECT {Columns} FROM expectations WHERE port = @port AND transport = @transport AND process = @process AND host_group = @group",
                connection, transaction);
            Key(command, key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        }

        public async Task<long> CountAtAsync(uint port, Transport transport)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM expectations WHERE port = @port AND transport = @transport", connection, transaction);
            command.Parameters.AddWithValue("port", (int)port);
            command.Parameters.AddWithValue("transport", (short)transport);
            return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        public async Task<Expectation> UpsertAsync(Expectation expectation, string setBy)
        {
            await using var command = new NpgsqlCommand($"""
                INSERT INTO expectations (port, transport, process, host_group, note, set_by) VALUES (@port, @transport, @process, @group, @note, @setBy)
                ON CONFLICT (port, transport, process, host_group) DO UPDATE SET note = excluded.note, set_by = excluded.set_by, set_at = now()
                RETURNING {Columns}
                """, connection, transaction);
            Key(command, expectation);
            command.Parameters.AddWithValue("note", expectation.Note);
            command.Parameters.AddWithValue("setBy", setBy);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return Read(reader);
        }

        public async Task<ExpectationChange> CommitAsync(IReadOnlyList<int> ports)
        {
            long count;
            await using (var counting = new NpgsqlCommand("SELECT count(*) FROM expectations", connection, transaction))
            {
                count = (long)(await counting.ExecuteScalarAsync(cancellationToken))!;
            }

            if (count > MaxExpectations) throw new ExpectationLimitException($"at most {MaxExpectations} expectations are kept");
            await using (var notify = new NpgsqlCommand($"NOTIFY {NotificationChannels.Expectations}", connection, transaction))
            {
                await notify.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return new ExpectationChange(version, ports, countBefore == 0, count == 0);
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
