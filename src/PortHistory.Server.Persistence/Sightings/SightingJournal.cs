using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>The journal and the observations index as port grains use them.</summary>
public sealed class SightingJournal(NpgsqlDataSource dataSource) : ISightingJournal
{
    public async Task<IReadOnlyList<(int Writer, ObservationEntry Entry)>> ReadAfterAsync(int port, IReadOnlyDictionary<int, long> watermarks,
        CancellationToken cancellationToken)
    {
        // Sightings and listener changes share each writer's sequence: both are read past the watermarks in one statement,
        // so from one snapshot. Two statements would each take their own: a flush committing between them would show its
        // listener changes without its sightings, the watermark would move past those, and they would never count.
        // A row is a sighting when its kind is 0 (listener changes are 1 and up).
        await using var command = dataSource.CreateCommand("""
            SELECT j.writer_id, j.seq, j.transport, 0::smallint, j.host_hash, j.host_ref, j.process, j.executable, j.observed_at, j.bind_scope,
                   j.privileged, 0, 0, j.program, j.systemd_unit, j.host_group
            FROM sighting_journal j
            LEFT JOIN unnest(@writers, @seqs) AS w(writer_id, seq) ON w.writer_id = j.writer_id
            WHERE j.port = @port AND j.seq > coalesce(w.seq, 0)
            UNION ALL
            SELECT c.writer_id, c.seq, c.transport, c.kind, 0::bigint, c.host_ref, coalesce(p.name, ''), coalesce(p.executable, ''), c.changed_at,
                   0::smallint, c.reachable, c.hosts, c.process_id, coalesce(p.program, ''), coalesce(p.systemd_unit, ''), c.host_group
            FROM listener_changes c
            LEFT JOIN processes p ON p.process_id = c.process_id
            LEFT JOIN unnest(@writers, @seqs) AS w(writer_id, seq) ON w.writer_id = c.writer_id
            WHERE c.port = @port AND c.seq > coalesce(w.seq, 0)
            ORDER BY 1, 2
            """);
        command.Parameters.AddWithValue("port", port);
        command.Parameters.AddWithValue("writers", watermarks.Keys.ToArray());
        command.Parameters.AddWithValue("seqs", watermarks.Values.ToArray());

        var entries = new List<(int Writer, ObservationEntry Entry)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (writer, seq, transport, kind) = (reader.GetInt32(0), reader.GetInt64(1), (Transport)reader.GetInt16(2), reader.GetInt16(3));
            entries.Add((writer, kind == 0
                ? new ObservationEntry(seq, transport, (ulong)reader.GetInt64(4), reader.GetString(5), reader.GetString(6), reader.GetString(7),
                    reader.GetDateTime(8), (BindScope)reader.GetInt16(9), reader.GetBoolean(10), reader.GetString(13), reader.GetString(14),
                    reader.GetString(15))
                : ObservationEntry.Listener(seq, transport, (ListenerChangeKind)kind, reader.GetBoolean(10), reader.GetInt32(11), reader.GetDateTime(8),
                    reader.GetString(6), reader.GetString(7), reader.GetString(13), reader.GetString(14),
                    presence: reader.GetInt32(12) == ListenerDelta.HostPresence) with { HostGroup = reader.GetString(15), HostRef = reader.GetString(5) }));
        }

        return entries;
    }

    public async Task RecordCheckpointAsync(int port, IReadOnlyDictionary<int, long> watermarks, IReadOnlyList<ObservationIndexRow> rows,
        CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        // Every writer's watermark comes with each checkpoint; only those that moved are written (rewriting the others
        // was most of a steady fleet's row writes).
        var watermark = new NpgsqlBatchCommand("""
            INSERT INTO port_watermarks (port, writer_id, seq)
            SELECT @port, writer, seq FROM unnest(@writers, @seqs) AS w(writer, seq)
            ON CONFLICT (port, writer_id) DO UPDATE SET seq = EXCLUDED.seq WHERE port_watermarks.seq < EXCLUDED.seq
            """);
        watermark.Parameters.AddWithValue("port", port);
        watermark.Parameters.AddWithValue("writers", watermarks.Keys.ToArray());
        watermark.Parameters.AddWithValue("seqs", watermarks.Values.ToArray());
        batch.BatchCommands.Add(watermark);

        var index = new NpgsqlBatchCommand("""
            INSERT INTO port_observations (port, transport, hosts, sightings, first_seen, last_seen, verdict, reason, assigned_service, observed,
                oldest_live_seen, updated_at)
            SELECT @port, t, h, s, f, l, v, r, a, coalesce(string_to_array(o, chr(31)), '{}'), ol, now()
            FROM unnest(@transports, @hosts, @sightings, @first, @last, @verdicts, @reasons, @assigned, @observed, @oldest)
                AS x(t, h, s, f, l, v, r, a, o, ol)
            ON CONFLICT (port, transport) DO UPDATE SET hosts = EXCLUDED.hosts, sightings = EXCLUDED.sightings, first_seen = EXCLUDED.first_seen,
                last_seen = EXCLUDED.last_seen, verdict = EXCLUDED.verdict, reason = EXCLUDED.reason,
                assigned_service = EXCLUDED.assigned_service, observed = EXCLUDED.observed, oldest_live_seen = EXCLUDED.oldest_live_seen,
                updated_at = now()
            """);
        index.Parameters.AddWithValue("port", port);
        index.Parameters.AddWithValue("transports", rows.Select(r => (short)r.Transport).ToArray());
        index.Parameters.AddWithValue("hosts", rows.Select(r => r.Hosts).ToArray());
        index.Parameters.AddWithValue("sightings", rows.Select(r => r.Sightings).ToArray());
        index.Parameters.Add(new NpgsqlParameter("first", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = rows.Select(r => r.FirstSeen).ToArray() });
        index.Parameters.Add(new NpgsqlParameter("last", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = rows.Select(r => r.LastSeen).ToArray() });
        index.Parameters.Add(new NpgsqlParameter("oldest", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            Value = rows.Select(r => r.OldestLiveSeen is { } at ? (object)at : DBNull.Value).ToArray(),
        });
        index.Parameters.AddWithValue("verdicts", rows.Select(r => (short)r.Verdict).ToArray());
        index.Parameters.AddWithValue("reasons", rows.Select(r => r.Reason).ToArray());
        index.Parameters.Add(new NpgsqlParameter("assigned", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => (object?)r.AssignedService ?? DBNull.Value).ToArray() });
        // Process names joined by U+001F: a text[] per row does not go through unnest.
        index.Parameters.AddWithValue("observed", rows.Select(r => string.Join('\u001f', r.Observed)).ToArray());
        batch.BatchCommands.Add(index);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
