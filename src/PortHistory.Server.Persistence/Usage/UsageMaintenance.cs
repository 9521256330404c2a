using System.Globalization;
using Npgsql;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Hosts;

namespace PortHistory.Server.Persistence.Usage;

/// <summary>
/// The usage tables' upkeep in PostgreSQL: a partition per month of daily rows (created ahead, filled from the default
/// partition when rows got there first, dropped past the retention), closing days, and once the listeners hosts held
/// before the history began.
/// </summary>
public sealed class UsageMaintenance(NpgsqlDataSource dataSource) : IUsageMaintenance
{
    private const string Prefix = "usage_days_y";

    public async Task<IAsyncDisposable?> TryLockAsync(CancellationToken cancellationToken) =>
        await SessionLock.TryAcquireAsync(dataSource, SessionLock.JobSpace, "usage-history", cancellationToken);

    public async Task<int> EnsurePartitionsAsync(DateOnly first, DateOnly last, CancellationToken cancellationToken)
    {
        var existing = (await PartitionsAsync(cancellationToken)).Select(p => p.Month).ToHashSet();
        var months = new SortedSet<DateOnly>(await WaitingMonthsAsync(cancellationToken));
        for (var month = new DateOnly(first.Year, first.Month, 1); month <= last; month = month.AddMonths(1)) months.Add(month);
        var created = 0;
        foreach (var month in months)
        {
            if (existing.Contains(month)) continue;
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var name = Name(month);
            // Built apart, filled with what waited in the default partition, then attached: the default never holds rows of a month with a partition.
            await using var create = new NpgsqlCommand($"""
                CREATE TABLE {name} (LIKE usage_days);
                WITH moved AS (DELETE FROM usage_days_default WHERE day >= @from AND day < @to RETURNING *)
                INSERT INTO {name} SELECT * FROM moved;
                ALTER TABLE usage_days ATTACH PARTITION {name} FOR VALUES FROM ('{Text(month)}') TO ('{Text(month.AddMonths(1))}');
                """, connection, transaction);
            create.Parameters.AddWithValue("from", month);
            create.Parameters.AddWithValue("to", month.AddMonths(1));
            await create.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            created++;
        }

        return created;
    }

    public async Task<IReadOnlyList<string>> DropPartitionsBeforeAsync(DateOnly before, CancellationToken cancellationToken)
    {
        var old = (await PartitionsAsync(cancellationToken)).Where(p => p.Month.AddMonths(1) <= before).ToList();
        if (old.Count == 0) return [];
        // First where answers take monthly rows instead (so a drop cut short never leaves answers counting on rows that are gone),
        // and the rows that waited in the default partition for those months.
        var kept = old.Max(p => p.Month).AddMonths(1);
        await using var retention = dataSource.CreateCommand("""
            INSERT INTO usage_state (daily_since) VALUES (@kept) ON CONFLICT (id) DO UPDATE SET daily_since = greatest(usage_state.daily_since, EXCLUDED.daily_since);
            DELETE FROM usage_days_default WHERE day < @kept;
            """);
        retention.Parameters.AddWithValue("kept", kept);
        await retention.ExecuteNonQueryAsync(cancellationToken);
        foreach (var (name, _) in old)
        {
            await using var drop = dataSource.CreateCommand($"DROP TABLE IF EXISTS {name}");
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        return [.. old.Select(p => p.Name)];
    }

    public async Task<DateOnly?> LastClosedAsync(CancellationToken cancellationToken)
    {
        await using var last = dataSource.CreateCommand("SELECT coalesce((SELECT max(day) FROM usage_fleet_days), (SELECT min(first_seen)::date - 1 FROM hosts))");
        await using var reader = await last.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? reader.GetFieldValue<DateOnly>(0) : null;
    }

    public Task<UsageDaySignals> ReadSignalsAsync(DateOnly day, int quietDays, int baselineDays, CancellationToken cancellationToken) =>
        UsageSignalQueries.ReadAsync(dataSource, day, quietDays, baselineDays, cancellationToken);

    public async Task<PrehistoryCount?> CountBeforeHistoryAsync(Func<DateTime, IEnumerable<HostSocketEntry[]>, IReadOnlyList<UsageDelta>> deltasOf,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var state = new NpgsqlCommand("INSERT INTO usage_state (id) VALUES (true) ON CONFLICT (id) DO NOTHING", connection, transaction))
        {
            await state.ExecuteNonQueryAsync(cancellationToken);
        }

        DateTime began;
        await using (var read = new NpgsqlCommand(
            "SELECT prehistory_counted_at IS NOT NULL, (SELECT applied_at FROM schema_migrations WHERE version = 22) FROM usage_state FOR UPDATE", connection, transaction))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.GetBoolean(0) || reader.IsDBNull(1)) return null;
            began = reader.GetDateTime(1);
        }

        // Hosts online since before the history began; their sets are read and added up one by one (a million hosts'
        // sets at once would not fit in memory).
        var (hosts, unreadable) = (0, 0);
        IReadOnlyList<UsageDelta> deltas;
        await using (var sets = new NpgsqlCommand("SELECT sockets FROM hosts WHERE state = 1 AND state_since < @began AND first_seen < @began", connection, transaction))
        {
            sets.Parameters.AddWithValue("began", began);
            await using var reader = await sets.ExecuteReaderAsync(cancellationToken);
            deltas = deltasOf(began, Decoded(reader));
        }

        await UsageStore.AddAsync(connection, transaction, deltas, cancellationToken);
        await using (var mark = new NpgsqlCommand("UPDATE usage_state SET prehistory_counted_at = now()", connection, transaction))
        {
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new PrehistoryCount(hosts, unreadable);

        IEnumerable<HostSocketEntry[]> Decoded(NpgsqlDataReader reader)
        {
            while (reader.Read())
            {
                // A row that cannot be read adds nothing rather than stopping the count for every other host.
                if (Readable(reader.GetFieldValue<byte[]>(0)) is not { } set)
                {
                    unreadable++;
                    continue;
                }

                hosts++;
                yield return set;
            }
        }
    }

    private static HostSocketEntry[]? Readable(byte[] sockets)
    {
        try
        {
            return HostSocketCodec.Decode(sockets);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    public async Task CloseDayAsync(DateOnly day, int recheckDays, DateTime closedAt, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var close = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    INSERT INTO usage_fleet_days (day, reporting_hosts, closed_at)
                    SELECT @day, count(*), @closed_at FROM hosts LEFT JOIN host_seen USING (host_ref)
                    WHERE first_seen < @day + 1 AND greatest(hosts.last_seen, host_seen.last_seen) >= @day
                    ON CONFLICT (day) DO NOTHING
                    """),
                new NpgsqlBatchCommand(UsagePeaks.FromDays),
            },
        };
        foreach (var command in close.BatchCommands.Cast<NpgsqlBatchCommand>())
        {
            command.Parameters.AddWithValue("day", day);
            if (command.CommandText.Contains("@closed_at", StringComparison.Ordinal)) command.Parameters.AddWithValue("closed_at", DateTime.SpecifyKind(closedAt, DateTimeKind.Utc));
            if (command.CommandText.Contains("@first", StringComparison.Ordinal)) command.Parameters.AddWithValue("first", day.AddDays(-recheckDays));
        }

        await close.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Months with rows waiting in the default partition (a bulk load of the past, say): they get partitions too.</summary>
    private async Task<List<DateOnly>> WaitingMonthsAsync(CancellationToken cancellationToken)
    {
        await using var waiting = dataSource.CreateCommand("SELECT DISTINCT date_trunc('month', day)::date FROM usage_days_default");
        await using var reader = await waiting.ExecuteReaderAsync(cancellationToken);
        var months = new List<DateOnly>();
        while (await reader.ReadAsync(cancellationToken)) months.Add(reader.GetFieldValue<DateOnly>(0));
        return months;
    }

    private async Task<List<(string Name, DateOnly Month)>> PartitionsAsync(CancellationToken cancellationToken)
    {
        await using var list = dataSource.CreateCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'usage_days'::regclass AND c.relname LIKE 'usage\_days\_y%'
            """);
        var partitions = new List<(string, DateOnly)>();
        await using var reader = await list.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (DateOnly.TryParseExact(name[Prefix.Length..], "yyyy'm'MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month)) partitions.Add((name, month));
        }

        return partitions;
    }

    private static string Name(DateOnly month) => $"{Prefix}{month:yyyy}m{month:MM}";

    private static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
