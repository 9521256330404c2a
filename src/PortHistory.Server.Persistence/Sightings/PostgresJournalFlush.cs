using System.Text;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>One journal writer's transaction: batch ids, the sightings by COPY, and the reporting hosts.</summary>
internal sealed class PostgresJournalFlush(int writer, NpgsqlConnection connection, NpgsqlTransaction transaction) : IJournalFlush
{
    public async Task<IReadOnlySet<Guid>> ClaimAsync(IReadOnlyList<JournalBatch> batches, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand("""
            INSERT INTO sighting_batches (batch_id, writer_id, accepted, rejected)
            SELECT id, @writer, accepted, rejected FROM unnest(@ids, @accepted, @rejected) AS b(id, accepted, rejected)
            ON CONFLICT (batch_id) DO NOTHING
            RETURNING batch_id
            """, connection, transaction);
        claim.Parameters.AddWithValue("writer", writer);
        claim.Parameters.AddWithValue("ids", batches.Select(b => b.BatchId).ToArray());
        claim.Parameters.AddWithValue("accepted", batches.Select(b => b.Sightings.Count).ToArray());
        claim.Parameters.AddWithValue("rejected", batches.Select(b => b.Rejected).ToArray());
        var claimed = new HashSet<Guid>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) claimed.Add(reader.GetGuid(0));
        return claimed;
    }

    public async Task<IReadOnlyDictionary<Guid, int>> RecordedCountsAsync(IReadOnlyList<Guid> batchIds, CancellationToken cancellationToken)
    {
        var recorded = new Dictionary<Guid, int>();
        if (batchIds.Count == 0) return recorded;
        await using var counts = new NpgsqlCommand("SELECT batch_id, accepted FROM sighting_batches WHERE batch_id = ANY(@ids)", connection, transaction);
        counts.Parameters.AddWithValue("ids", batchIds.ToArray());
        await using var reader = await counts.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) recorded[reader.GetGuid(0)] = reader.GetInt32(1);
        return recorded;
    }

    public async Task AppendAsync(long afterSeq, IReadOnlyList<JournalBatch> batches, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginTextImportAsync(JournalCopyText.Command, cancellationToken);
        var line = new StringBuilder(256);
        var seq = afterSeq;
        foreach (var batch in batches)
        {
            var batchId = batch.BatchId.ToString();
            foreach (var sighting in batch.Sightings)
            {
                await copy.WriteAsync(JournalCopyText.AppendLine(line.Clear(), writer, ++seq, sighting, batchId), cancellationToken);
            }
        }
    }

    public async Task<int> AddHostsAsync(IReadOnlyList<(long HostHash, DateTime LastSeen)> hosts, CancellationToken cancellationToken)
    {
        if (hosts.Count == 0) return 0;
        await using var upsert = new NpgsqlCommand("""
            INSERT INTO reporting_hosts (host_hash, first_seen, last_seen)
            SELECT hash, seen, seen FROM unnest(@hashes, @seen) AS h(hash, seen)
            ON CONFLICT (host_hash) DO UPDATE SET last_seen = greatest(reporting_hosts.last_seen, EXCLUDED.last_seen)
            RETURNING (xmax = 0)
            """, connection, transaction);
        upsert.Parameters.AddWithValue("hashes", hosts.Select(h => h.HostHash).ToArray());
        upsert.Parameters.Add(new NpgsqlParameter("seen", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = hosts.Select(h => h.LastSeen).ToArray() });
        var added = 0;
        await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) added += reader.GetBoolean(0) ? 1 : 0;
        return added;
    }

    public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
