using Npgsql;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Persistence.Usage;

/// <summary>
/// Adds to the usage history's day and month rows and moves the lifetimes, in key order (the order their rows are
/// locked in). The rows are sums, so flushes of several writers, late reports and bulk loads add up in any order.
/// </summary>
internal static class UsageWrites
{
    public static async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken)
    {
        if (deltas.Count == 0) return;
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO usage_days (port, transport, process_id, reachable, day, added, removed)
            SELECT * FROM unnest(@ports, @transports, @processes, @reachable, @days, @added, @removed)
            ON CONFLICT (port, transport, process_id, reachable, day)
                DO UPDATE SET added = usage_days.added + EXCLUDED.added, removed = usage_days.removed + EXCLUDED.removed
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO usage_months (port, transport, process_id, reachable, month, added, removed)
            SELECT port, transport, process, reach, date_trunc('month', day)::date AS month, sum(added), sum(removed)
            FROM unnest(@ports, @transports, @processes, @reachable, @days, @added, @removed) AS d(port, transport, process, reach, day, added, removed)
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (port, transport, process_id, reachable, month)
                DO UPDATE SET added = usage_months.added + EXCLUDED.added, removed = usage_months.removed + EXCLUDED.removed
            """));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO usage_lifetimes (port, transport, process_id, first_seen, last_added_at, last_removed_at)
            SELECT port, transport, process, coalesce(min(first_added), max(last_removed)), coalesce(max(last_added), max(last_removed)), max(last_removed)
            FROM unnest(@ports, @transports, @processes, @first_added, @last_added, @last_removed)
                AS d(port, transport, process, first_added, last_added, last_removed)
            WHERE process <> 0
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (port, transport, process_id) DO UPDATE SET
                first_seen = least(usage_lifetimes.first_seen, EXCLUDED.first_seen),
                last_added_at = greatest(usage_lifetimes.last_added_at, EXCLUDED.last_added_at),
                last_removed_at = greatest(usage_lifetimes.last_removed_at, EXCLUDED.last_removed_at)
            """));
        NpgsqlParameter[] parameters =
        [
            new("ports", deltas.Select(d => d.Port).ToArray()),
            new("transports", deltas.Select(d => (short)d.Transport).ToArray()),
            new("processes", deltas.Select(d => d.ProcessId).ToArray()),
            new("reachable", deltas.Select(d => d.Reachable).ToArray()),
            new("days", deltas.Select(d => d.Day).ToArray()),
            new("added", deltas.Select(d => d.Added).ToArray()),
            new("removed", deltas.Select(d => d.Removed).ToArray()),
            Times("first_added", deltas.Select(d => d.FirstAddedAt)),
            Times("last_added", deltas.Select(d => d.LastAddedAt)),
            Times("last_removed", deltas.Select(d => d.LastRemovedAt)),
        ];
        foreach (var command in batch.BatchCommands.Cast<NpgsqlBatchCommand>())
        {
            foreach (var parameter in parameters.Where(p => command.CommandText.Contains($"@{p.ParameterName}", StringComparison.Ordinal)))
            {
                command.Parameters.Add(parameter.Clone());
            }
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }


    private static NpgsqlParameter Times(string name, IEnumerable<DateTime?> values) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz)
        {
            Value = values.Select(v => v is { } at ? (object)DateTime.SpecifyKind(at, DateTimeKind.Utc) : DBNull.Value).ToArray(),
        };
}
