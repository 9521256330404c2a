using System.Data;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Persistence.Usage;

/// <summary>The usage tables: one port read from one snapshot; bulk loads written in one transaction.</summary>
public sealed class UsageStore(NpgsqlDataSource dataSource) : IUsageStore, IUsageLoadStore
{
    public async Task AddAsync(IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await AddAsync(connection, transaction, deltas, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Adds observations from outside the change stream (loaded, or held before the history began) in the caller's transaction.</summary>
    internal static async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken)
    {
        await UsageWrites.AddAsync(connection, transaction, deltas, cancellationToken);
        if (deltas.Count > 0)
        {
            // The busiest days of what was loaded: those days may be closed already.
            var processes = deltas.Where(d => d.ProcessId != 0).Select(d => (d.Port, d.Transport, d.ProcessId)).Distinct().ToList();
            await using var peaks = new NpgsqlCommand(UsagePeaks.FromDaysOf, connection, transaction);
            peaks.Parameters.AddWithValue("first", deltas.Min(d => d.Day));
            peaks.Parameters.AddWithValue("day", deltas.Max(d => d.Day));
            peaks.Parameters.AddWithValue("ports", processes.Select(p => p.Port).ToArray());
            peaks.Parameters.AddWithValue("transports", processes.Select(p => (short)p.Transport).ToArray());
            peaks.Parameters.AddWithValue("processes", processes.Select(p => p.ProcessId).ToArray());
            await peaks.ExecuteNonQueryAsync(cancellationToken);

            // Observations loaded from before the first host reported: reporting began then.
            await using var since = new NpgsqlCommand(
                "INSERT INTO usage_state (loaded_since) VALUES (@first) ON CONFLICT (id) DO UPDATE SET loaded_since = least(usage_state.loaded_since, EXCLUDED.loaded_since)",
                connection, transaction);
            since.Parameters.AddWithValue("first", deltas.Min(d => d.Day));
            await since.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<UsageRows> ReadAsync(int port, Transport? transport, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for the five reads: a delta written between them would show in the months and not the days.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        const string OfPort = "port = @port AND (@transport = 0 OR transport = @transport)";
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT transport, process_id, reachable, month, added, removed FROM usage_months WHERE {OfPort}"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"SELECT transport, process_id, reachable, day, added, removed FROM usage_days WHERE {OfPort} AND day >= @month_start AND day <= @to"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT l.transport, l.process_id, p.name, p.executable, l.first_seen, l.last_added_at, l.last_removed_at, l.peak_hosts, l.peak_day
            FROM usage_lifetimes l JOIN processes p USING (process_id) WHERE l.port = @port AND (@transport = 0 OR l.transport = @transport)
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT day, reporting_hosts FROM usage_fleet_days WHERE day >= @from AND day <= @to"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            SELECT least((SELECT loaded_since FROM usage_state), coalesce((SELECT min(day) FROM usage_fleet_days), (SELECT min(first_seen)::date FROM hosts))),
                (SELECT daily_since FROM usage_state)
            """));
        foreach (var command in batch.BatchCommands.Cast<NpgsqlBatchCommand>())
        {
            var text = command.CommandText;
            if (text.Contains("@port", StringComparison.Ordinal))
            {
                command.Parameters.AddWithValue("port", port);
                command.Parameters.AddWithValue("transport", (short)(transport ?? Transport.Unspecified));
            }

            if (text.Contains("@month_start", StringComparison.Ordinal)) command.Parameters.AddWithValue("month_start", new DateOnly(from.Year, from.Month, 1));
            if (text.Contains("@from", StringComparison.Ordinal)) command.Parameters.AddWithValue("from", from);
            if (text.Contains("@to", StringComparison.Ordinal)) command.Parameters.AddWithValue("to", to);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var months = await RowsAsync(reader, cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var days = await RowsAsync(reader, cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var lifetimes = new List<StoredLifetime>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lifetimes.Add(new StoredLifetime((Transport)reader.GetInt16(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetDateTime(4),
                reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetDateTime(6), reader.GetInt32(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateOnly>(8)));
        }

        await reader.NextResultAsync(cancellationToken);
        var fleet = new Dictionary<DateOnly, int>();
        while (await reader.ReadAsync(cancellationToken)) fleet[reader.GetFieldValue<DateOnly>(0)] = reader.GetInt32(1);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        DateOnly? since = reader.IsDBNull(0) ? null : reader.GetFieldValue<DateOnly>(0);
        DateOnly? dailySince = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateOnly>(1);
        await reader.DisposeAsync();
        await transaction.CommitAsync(cancellationToken);
        return new UsageRows(months, days, lifetimes, fleet, since, dailySince);
    }

    private static async Task<List<StoredUsageRow>> RowsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var rows = new List<StoredUsageRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new StoredUsageRow((Transport)reader.GetInt16(0), reader.GetInt32(1), reader.GetBoolean(2), reader.GetFieldValue<DateOnly>(3), reader.GetInt32(4),
                reader.GetInt32(5)));
        }

        return rows;
    }
}
