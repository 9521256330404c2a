using System.Globalization;
using Npgsql;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Persistence.Database;

namespace PortHistory.Server.Persistence.Usage;

/// <summary>
/// The usage tables' upkeep in PostgreSQL: a partition per month of daily rows (created ahead, filled from the default
/// partition when rows got there first, dropped past the retention), and closing days.
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
