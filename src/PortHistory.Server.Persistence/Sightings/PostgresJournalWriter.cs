using Npgsql;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>Journal writers in sighting_writers, and flushes into sighting_batches, sighting_journal and reporting_hosts.</summary>
public sealed class PostgresJournalWriter(NpgsqlDataSource dataSource, ILocalSiloDetails silo) : IJournalWriter
{
    public async Task<int> RegisterAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO sighting_writers (silo) VALUES (@silo) RETURNING writer_id");
        command.Parameters.AddWithValue("silo", silo.SiloAddress.ToParsableString());
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task HeartbeatAsync(IReadOnlyCollection<int> writers, CancellationToken cancellationToken)
    {
        if (writers.Count == 0) return;
        await using var command = dataSource.CreateCommand("UPDATE sighting_writers SET heartbeat_at = now() WHERE writer_id = ANY(@writers)");
        command.Parameters.AddWithValue("writers", writers.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IJournalFlush> BeginFlushAsync(int writer, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            return new PostgresJournalFlush(writer, connection, await connection.BeginTransactionAsync(cancellationToken));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
