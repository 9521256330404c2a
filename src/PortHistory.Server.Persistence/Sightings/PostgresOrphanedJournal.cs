using Npgsql;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Persistence.Sightings;

public sealed class PostgresOrphanedJournal(NpgsqlDataSource dataSource) : IOrphanedJournal
{
    public async Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, IReadOnlyDictionary<int, long> marks,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT j.port, j.writer_id, max(j.seq), bool_or(w.heartbeat_at < now() - @timeout)
            FROM sighting_writers w
            JOIN (SELECT port, writer_id, seq FROM sighting_journal UNION ALL SELECT port, writer_id, seq FROM listener_changes) j
                ON j.writer_id = w.writer_id
            LEFT JOIN unnest(@writers, @marks) AS k(writer_id, mark) ON k.writer_id = j.writer_id
            LEFT JOIN port_watermarks m ON m.port = j.port AND m.writer_id = j.writer_id
            WHERE (w.heartbeat_at < now() - @timeout OR j.seq <= k.mark) AND j.seq > coalesce(m.seq, 0)
            GROUP BY j.port, j.writer_id
            """);
        command.Parameters.AddWithValue("timeout", writerTimeout);
        command.Parameters.AddWithValue("writers", marks.Keys.ToArray());
        command.Parameters.AddWithValue("marks", marks.Values.ToArray());
        var found = new List<UnappliedRows>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(new UnappliedRows(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetBoolean(3)));
        }

        return found;
    }

    public async Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE sighting_writers SET heartbeat_at = '-infinity' WHERE silo = @silo AND heartbeat_at > '-infinity'");
        command.Parameters.AddWithValue("silo", silo);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
