using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Persistence.Database;

namespace PortHistory.Server.Persistence.Hosts;

/// <summary>The hosts table: rows host grains load, the fleet's listings and counts, last-seen writes, the sweeps' reads.</summary>
public sealed class HostTable(NpgsqlDataSource dataSource) : IHostStore, IHostRows
{
    private static readonly string[] ColumnNames =
    [
        "host_ref", "version", "state", "state_since", "epoch_id", "epoch_started_at", "seq", "set_hash", "sockets", "host_group", "agent_version",
        "privileged", "dropped_reports", "dropped_bytes", "first_seen", "last_seen", "last_snapshot_at", "retired_reason",
    ];

    /// <summary>The columns <see cref="Read"/> reads, in its order, as written.</summary>
    internal static readonly string Columns = string.Join(", ", ColumnNames);

    /// <summary>
    /// <see cref="Columns"/> as read: the last-seen time is the later of the row's (written with its changes) and the
    /// pulse's (the host_seen view of host_seen_pages, written every few minutes apart from the row).
    /// </summary>
    private static readonly string Selected = string.Join(", ", ColumnNames.Select(column => column switch
    {
        "host_ref" => "hosts.host_ref",
        "last_seen" => "greatest(hosts.last_seen, host_seen.last_seen)",
        _ => column,
    }));

    private const string FromHosts = "hosts LEFT JOIN host_seen ON host_seen.host_ref = hosts.host_ref";

    private const string SweepLock = "hosts-sweep";

    public async Task<HostRecord?> LoadAsync(string hostRef, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Selected} FROM {FromHosts} WHERE hosts.host_ref = @host");
        command.Parameters.AddWithValue("host", hostRef);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<HostRecord>> ListAsync(HostState? state, string? hostGroup, string after, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Selected} FROM {FromHosts}
            WHERE hosts.host_ref > @after AND (@state::smallint IS NULL OR state = @state) AND (@group::text IS NULL OR host_group = @group)
            ORDER BY hosts.host_ref LIMIT @limit
            """);
        command.Parameters.AddWithValue("after", after);
        command.Parameters.Add(new NpgsqlParameter("state", NpgsqlDbType.Smallint) { Value = state is { } s ? (short)s : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("group", NpgsqlDbType.Text) { Value = (object?)hostGroup ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);
        var hosts = new List<HostRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) hosts.Add(Read(reader));
        return hosts;
    }

    public async Task<FleetCounts> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT state, count(*) FROM hosts GROUP BY state");
        long online = 0, stale = 0, retired = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = reader.GetInt64(1);
            switch ((HostState)reader.GetInt16(0))
            {
                case HostState.Online: online = count; break;
                case HostState.Stale: stale = count; break;
                case HostState.Retired: retired = count; break;
            }
        }

        return new FleetCounts(online, stale, retired);
    }

    public async Task WriteLastSeenAsync(IReadOnlyList<HostPulseRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        // Sorted: concurrent writers lock host rows in the same order (the pages are locked in page order).
        var sorted = rows.OrderBy(r => r.HostRef, StringComparer.Ordinal).ToList();
        await using var batch = dataSource.CreateBatch();
        // Packed 128 hosts to a row (migration 0025): a pulse writes each page it touches once. Hosts without a row are
        // not written (a host is stored with its first change).
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT host_seen_write(@hosts, @seen)"));
        // The agent's figures go into the host row only when they moved: rarely.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            UPDATE hosts SET agent_version = v.version, dropped_reports = greatest(hosts.dropped_reports, v.reports),
                dropped_bytes = greatest(hosts.dropped_bytes, v.bytes)
            FROM unnest(@hosts, @versions, @reports, @bytes) AS v(host, version, reports, bytes)
            WHERE hosts.host_ref = v.host AND (hosts.agent_version <> v.version OR hosts.dropped_reports < v.reports OR hosts.dropped_bytes < v.bytes)
            """));
        var hosts = sorted.Select(r => r.HostRef).ToArray();
        batch.BatchCommands[0].Parameters.AddWithValue("hosts", hosts);
        batch.BatchCommands[0].Parameters.Add(new NpgsqlParameter("seen", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = sorted.Select(r => r.LastSeen).ToArray() });
        batch.BatchCommands[1].Parameters.AddWithValue("hosts", hosts);
        batch.BatchCommands[1].Parameters.AddWithValue("versions", sorted.Select(r => r.AgentVersion).ToArray());
        batch.BatchCommands[1].Parameters.AddWithValue("reports", sorted.Select(r => (long)Math.Min(r.DroppedReports, long.MaxValue)).ToArray());
        batch.BatchCommands[1].Parameters.AddWithValue("bytes", sorted.Select(r => (long)Math.Min(r.DroppedBytes, long.MaxValue)).ToArray());
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> SilentAsync(HostState state, DateTime before, int limit, CancellationToken cancellationToken)
    {
        // hosts.last_seen is the index's way in; the pulse's time, when later, can only take a host out.
        await using var command = dataSource.CreateCommand($"""
            SELECT hosts.host_ref FROM {FromHosts}
            WHERE state = @state AND hosts.last_seen < @before AND (host_seen.last_seen IS NULL OR host_seen.last_seen < @before)
            ORDER BY greatest(hosts.last_seen, host_seen.last_seen) LIMIT @limit
            """);
        command.Parameters.AddWithValue("state", (short)state);
        command.Parameters.AddWithValue("before", before);
        command.Parameters.AddWithValue("limit", limit);
        var hosts = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) hosts.Add(reader.GetString(0));
        return hosts;
    }

    public async Task<IAsyncDisposable?> TryLockSweepAsync(CancellationToken cancellationToken) =>
        await SessionLock.TryAcquireAsync(dataSource, SessionLock.JobSpace, SweepLock, cancellationToken);

    internal static HostRecord Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetInt64(1),
        (HostState)reader.GetInt16(2),
        reader.GetDateTime(3),
        (ulong)reader.GetInt64(4),
        reader.GetDateTime(5),
        (ulong)reader.GetInt64(6),
        SocketSetHash.From(Google.Protobuf.ByteString.CopyFrom(reader.GetFieldValue<byte[]>(7))) ?? SocketSetHash.Empty,
        HostSocketCodec.Decode(reader.GetFieldValue<byte[]>(8)),
        reader.GetString(9),
        reader.GetString(10),
        reader.GetBoolean(11),
        (ulong)reader.GetInt64(12),
        (ulong)reader.GetInt64(13),
        reader.GetDateTime(14),
        reader.GetDateTime(15),
        reader.IsDBNull(16) ? null : reader.GetDateTime(16),
        reader.IsDBNull(17) ? null : reader.GetString(17));
}
