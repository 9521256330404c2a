using Npgsql;

namespace PortHistory.Server.Infrastructure.Sightings;

/// <summary>Journal rows of one gone writer for one port that the port has not checkpointed, up to <paramref name="LastSeq"/>.</summary>
public sealed record UnappliedRows(int Port, int Writer, long LastSeq);

/// <summary>The journal rows of writers whose process is gone (no heartbeat) that no port grain has applied.</summary>
public interface IOrphanedJournal
{
    /// <summary>Per port and writer, for the writers silent longer than <paramref name="writerTimeout"/>.</summary>
    Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, CancellationToken cancellationToken);

    /// <summary>The cluster declared a silo dead: its writers count as gone from now on, whatever their last heartbeat.</summary>
    Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken);
}

public sealed class PostgresOrphanedJournal(NpgsqlDataSource dataSource) : IOrphanedJournal
{
    public async Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT j.port, j.writer_id, max(j.seq)
            FROM sighting_writers w
            JOIN sighting_journal j ON j.writer_id = w.writer_id
            LEFT JOIN port_watermarks m ON m.port = j.port AND m.writer_id = j.writer_id
            WHERE w.heartbeat_at < now() - @timeout AND j.seq > coalesce(m.seq, 0)
            GROUP BY j.port, j.writer_id
            """);
        command.Parameters.AddWithValue("timeout", writerTimeout);
        var found = new List<UnappliedRows>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) found.Add(new UnappliedRows(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2)));
        return found;
    }

    public async Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE sighting_writers SET heartbeat_at = '-infinity' WHERE silo = @silo AND heartbeat_at > '-infinity'");
        command.Parameters.AddWithValue("silo", silo);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
