using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Persistence.Usage;

/// <summary>The rows a closed day's watch events are decided from: only processes and ports that started on that day are looked at.</summary>
internal static class UsageSignalQueries
{
    /// <summary>A process's hosts at the start of @since, from its monthly and daily rows (the key named by the alias t).</summary>
    private static string LevelAt(string since) => $"""
        coalesce((SELECT sum(m.added - m.removed) FROM usage_months m
            WHERE m.port = t.port AND m.transport = t.transport AND m.process_id = t.process_id AND m.month < date_trunc('month', {since}::timestamp)), 0)
        + coalesce((SELECT sum(d.added - d.removed) FROM usage_days d
            WHERE d.port = t.port AND d.transport = t.transport AND d.process_id = t.process_id
            AND d.day >= date_trunc('month', {since}::timestamp) AND d.day < {since}), 0)
        """;

    private static readonly string FirstSeen = $"""
        WITH touched AS (
            SELECT port, transport, process_id, sum(added) AS added FROM usage_days
            WHERE day = @day AND process_id <> 0 GROUP BY 1, 2, 3 HAVING sum(added) > 0),
        quiet AS (
            SELECT t.port, t.transport, t.process_id, t.added, {LevelAt("@quiet_from")} AS level,
                coalesce((SELECT sum(d.added) FROM usage_days d WHERE d.port = t.port AND d.transport = t.transport AND d.process_id = t.process_id
                    AND d.day >= @quiet_from AND d.day < @day), 0) AS adds
            FROM touched t)
        SELECT q.port, q.transport, q.process_id, p.name, p.executable, q.added::int FROM quiet q JOIN processes p USING (process_id)
        WHERE q.level <= 0 AND q.adds = 0
        ORDER BY 1, 2, 3
        """;

    private static readonly string SpikeStarts = $"""
        SELECT t.port, t.transport, ({LevelAt("@baseline_from")})::int
        FROM (SELECT DISTINCT port, transport, process_id FROM usage_days WHERE day = @day AND process_id = 0 AND added > 0) t
        ORDER BY 1, 2
        """;

    private const string SpikeDays = """
        SELECT port, transport, day, sum(added)::int, sum(removed)::int FROM usage_days
        WHERE process_id = 0 AND day >= @baseline_from AND day <= @day
            AND (port, transport) IN (SELECT port, transport FROM usage_days WHERE day = @day AND process_id = 0 AND added > 0)
        GROUP BY 1, 2, 3
        """;

    public static async Task<UsageDaySignals> ReadAsync(NpgsqlDataSource dataSource, DateOnly day, int quietDays, int baselineDays, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands = { new NpgsqlBatchCommand(FirstSeen), new NpgsqlBatchCommand(SpikeStarts), new NpgsqlBatchCommand(SpikeDays) },
        };
        foreach (var command in batch.BatchCommands.Cast<NpgsqlBatchCommand>())
        {
            command.Parameters.AddWithValue("day", day);
            if (command.CommandText.Contains("@quiet_from", StringComparison.Ordinal)) command.Parameters.AddWithValue("quiet_from", day.AddDays(-quietDays));
            if (command.CommandText.Contains("@baseline_from", StringComparison.Ordinal)) command.Parameters.AddWithValue("baseline_from", day.AddDays(-baselineDays));
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var first = new List<FirstSeenRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            first.Add(new FirstSeenRow(reader.GetInt32(0), (Transport)reader.GetInt16(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5)));
        }

        await reader.NextResultAsync(cancellationToken);
        var starts = new List<(int Port, Transport Transport, int Hosts)>();
        while (await reader.ReadAsync(cancellationToken)) starts.Add((reader.GetInt32(0), (Transport)reader.GetInt16(1), reader.GetInt32(2)));
        await reader.NextResultAsync(cancellationToken);
        var days = new List<(int Port, Transport Transport, StoredUsageRow Row)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var transport = (Transport)reader.GetInt16(1);
            days.Add((reader.GetInt32(0), transport, new StoredUsageRow(transport, 0, false, reader.GetFieldValue<DateOnly>(2), reader.GetInt32(3), reader.GetInt32(4))));
        }

        var byPort = days.ToLookup(d => (d.Port, d.Transport), d => d.Row);
        return new UsageDaySignals(first, [.. starts.Select(s => new SpikeCandidate(s.Port, s.Transport, s.Hosts, [.. byPort[(s.Port, s.Transport)]]))]);
    }
}
