using System.Text;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Persistence.Hosts;
using PortHistory.Server.Persistence.Usage;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>One journal writer's transaction: batch ids, host rows, the sightings by COPY, and the listener changes.</summary>
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

    public async Task<IReadOnlySet<string>> WriteHostsAsync(IReadOnlyList<HostCommit> commits, CancellationToken cancellationToken)
    {
        await using var upsert = new NpgsqlCommand($"""
            INSERT INTO hosts ({HostTable.Columns}, host_hash, socket_count)
            SELECT * FROM unnest(@hosts, @versions, @states, @state_since, @epochs, @epoch_started, @seqs, @hashes, @sockets, @groups, @agent_versions,
                @privileged, @dropped_reports, @dropped_bytes, @first_seen, @last_seen, @last_snapshot, @retired_reason, @host_hashes, @socket_counts)
            ON CONFLICT (host_ref) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state, state_since = EXCLUDED.state_since,
                epoch_id = EXCLUDED.epoch_id, epoch_started_at = EXCLUDED.epoch_started_at, seq = EXCLUDED.seq, set_hash = EXCLUDED.set_hash,
                sockets = EXCLUDED.sockets, socket_count = EXCLUDED.socket_count, host_group = EXCLUDED.host_group,
                agent_version = EXCLUDED.agent_version, privileged = EXCLUDED.privileged, dropped_reports = EXCLUDED.dropped_reports,
                dropped_bytes = EXCLUDED.dropped_bytes, last_seen = greatest(hosts.last_seen, EXCLUDED.last_seen),
                last_snapshot_at = EXCLUDED.last_snapshot_at, retired_reason = EXCLUDED.retired_reason
            WHERE hosts.version = EXCLUDED.version - 1
            RETURNING host_ref
            """, connection, transaction);
        var rows = commits.Select(c => c.Row).ToArray();
        upsert.Parameters.AddWithValue("hosts", rows.Select(r => r.HostRef).ToArray());
        upsert.Parameters.AddWithValue("versions", rows.Select(r => r.Version).ToArray());
        upsert.Parameters.AddWithValue("states", rows.Select(r => (short)r.State).ToArray());
        upsert.Parameters.Add(Times("state_since", rows.Select(r => (DateTime?)r.StateSince)));
        upsert.Parameters.AddWithValue("epochs", rows.Select(r => (long)r.EpochId).ToArray());
        upsert.Parameters.Add(Times("epoch_started", rows.Select(r => (DateTime?)(r.EpochStartedAt == DateTime.MinValue ? DateTime.UnixEpoch : r.EpochStartedAt))));
        upsert.Parameters.AddWithValue("seqs", rows.Select(r => (long)r.Seq).ToArray());
        upsert.Parameters.AddWithValue("hashes", rows.Select(r => r.SetHash.ToByteString().ToByteArray()).ToArray());
        upsert.Parameters.AddWithValue("sockets", rows.Select(r => HostSocketCodec.Encode(r.Sockets)).ToArray());
        upsert.Parameters.AddWithValue("groups", rows.Select(r => r.HostGroup).ToArray());
        upsert.Parameters.AddWithValue("agent_versions", rows.Select(r => r.AgentVersion).ToArray());
        upsert.Parameters.AddWithValue("privileged", rows.Select(r => r.Privileged).ToArray());
        upsert.Parameters.AddWithValue("dropped_reports", rows.Select(r => (long)Math.Min(r.DroppedReports, long.MaxValue)).ToArray());
        upsert.Parameters.AddWithValue("dropped_bytes", rows.Select(r => (long)Math.Min(r.DroppedBytes, long.MaxValue)).ToArray());
        upsert.Parameters.Add(Times("first_seen", rows.Select(r => (DateTime?)r.FirstSeen)));
        upsert.Parameters.Add(Times("last_seen", rows.Select(r => (DateTime?)r.LastSeen)));
        upsert.Parameters.Add(Times("last_snapshot", rows.Select(r => r.LastSnapshotAt)));
        upsert.Parameters.Add(new NpgsqlParameter("retired_reason", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => (object?)r.RetiredReason ?? DBNull.Value).ToArray() });
        upsert.Parameters.AddWithValue("host_hashes", rows.Select(r => (long)HostRefs.Hash(r.HostRef)).ToArray());
        upsert.Parameters.AddWithValue("socket_counts", rows.Select(r => r.Sockets.Length).ToArray());
        var written = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) written.Add(reader.GetString(0));
        return written;
    }

    public async Task AppendListenerChangesAsync(long afterSeq, IReadOnlyList<ListenerChangeRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        await using var insert = new NpgsqlCommand("""
            INSERT INTO listener_changes (writer_id, seq, port, transport, process_id, kind, reachable, hosts, changed_at, host_group, host_ref)
            SELECT @writer, @after + ordinality, port, transport, process, kind, reachable, hosts, changed, host_group, host_ref
            FROM unnest(@ports, @transports, @processes, @kinds, @reachable, @hosts, @changed, @groups, @refs) WITH ORDINALITY
                AS c(port, transport, process, kind, reachable, hosts, changed, host_group, host_ref, ordinality)
            """, connection, transaction);
        insert.Parameters.AddWithValue("writer", writer);
        insert.Parameters.AddWithValue("after", afterSeq);
        insert.Parameters.AddWithValue("ports", rows.Select(r => r.Port).ToArray());
        insert.Parameters.AddWithValue("transports", rows.Select(r => (short)r.Transport).ToArray());
        insert.Parameters.AddWithValue("processes", rows.Select(r => r.ProcessId).ToArray());
        insert.Parameters.AddWithValue("kinds", rows.Select(r => (short)r.Kind).ToArray());
        insert.Parameters.AddWithValue("reachable", rows.Select(r => r.Reachable).ToArray());
        insert.Parameters.AddWithValue("hosts", rows.Select(r => r.Hosts).ToArray());
        insert.Parameters.Add(Times("changed", rows.Select(r => (DateTime?)r.ChangedAt)));
        insert.Parameters.AddWithValue("groups", rows.Select(r => r.HostGroup).ToArray());
        insert.Parameters.AddWithValue("refs", rows.Select(r => r.HostRef).ToArray());
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task AddUsageAsync(IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken) =>
        UsageWrites.AddAsync(connection, transaction, deltas, cancellationToken);

    private static NpgsqlParameter Times(string name, IEnumerable<DateTime?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            Value = values.Select(v => v is { } at ? (object)DateTime.SpecifyKind(at, DateTimeKind.Utc) : DBNull.Value).ToArray(),
        };

    public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}
