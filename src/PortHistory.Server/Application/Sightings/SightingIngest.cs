using System.Threading.Channels;
using Microsoft.Extensions.Options;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Grains.Observations;
using PortHistory.Server.Infrastructure.Database;
using PortHistory.Server.Configuration;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Sightings;

/// <summary>The outcome of one batch: how many sightings were recorded, and whether they had been recorded before.</summary>
public sealed record IngestResult(int Accepted, bool Duplicate);

/// <summary>
/// Makes batches durable before they are acknowledged. A few journal writers (lanes) per process take the batches
/// that arrive together (from any number of agent streams) and write each group in one transaction: the batch ids (a
/// batch seen before is not written again), the sightings by COPY into the journal with that writer's sequence
/// numbers, and the reporting hosts. Only after the commit are the batches acknowledged and their sightings handed to
/// the dispatcher for the grains. Each writer commits its sequence numbers in order, which is what grains rely on.
/// </summary>
public sealed class SightingIngest(
    NpgsqlDataSource dataSource,
    ObservationDispatcher dispatcher,
    ObservationContext context,
    IOptions<SightingOptions> options,
    ILogger<SightingIngest> logger) : BackgroundService
{
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(4096));
    private readonly List<int> _writers = [];

    /// <summary>The journal writers of this process (registered once the database answers).</summary>
    public IReadOnlyList<int> Writers
    {
        get
        {
            lock (_writers) return [.. _writers];
        }
    }

    public async Task<IngestResult> SubmitAsync(Guid batchId, IReadOnlyList<ValidSighting> sightings, int rejected, CancellationToken cancellationToken)
    {
        var pending = new Pending(batchId, sightings, rejected);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        // Not cancelled with the call: once queued, the batch is written (and a retry is then a duplicate).
        return await pending.Result.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Writers)).Select(_ => Task.Run(() => RunLaneAsync(stoppingToken), stoppingToken)));

    /// <summary>One journal writer: its own id and sequence, flushing whatever batches are waiting.</summary>
    private async Task RunLaneAsync(CancellationToken stoppingToken)
    {
        var lane = new Lane(await RegisterWriterAsync(stoppingToken));
        lock (_writers) _writers.Add(lane.Writer);
        var reader = _queue.Reader;
        var batch = new List<Pending>();
        while (await reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            var rows = 0;
            while (rows < options.Value.MaxRowsPerFlush && reader.TryRead(out var next))
            {
                batch.Add(next);
                rows += next.Sightings.Count;
            }

            if (batch.Count == 0) continue;
            try
            {
                await FlushAsync(lane, batch, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (!DatabaseErrors.IsUnavailable(e)) logger.LogError(e, "Writing {Count} batch(es) to the journal failed", batch.Count);
                foreach (var pending in batch) pending.Result.TrySetException(e);
            }
        }
    }

    private async Task FlushAsync(Lane lane, List<Pending> batches, CancellationToken cancellationToken)
    {
        var writer = lane.Writer;
        // A batch id twice in one flush (a retry racing its original): the first is written, the others are duplicates.
        var first = new Dictionary<Guid, Pending>();
        var repeats = new List<Pending>();
        foreach (var pending in batches)
        {
            if (!first.TryAdd(pending.BatchId, pending)) repeats.Add(pending);
        }

        var startSeq = lane.Seq;
        var written = new List<Pending>();
        var recorded = new Dictionary<Guid, int>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            // Rows are locked in key order (batch ids here, host hashes below), so that flushes of other lanes sharing
            // some of them wait for each other instead of deadlocking.
            var candidates = first.Values.OrderBy(c => c.BatchId).ToList();
            await using (var claim = new NpgsqlCommand("""
                INSERT INTO sighting_batches (batch_id, writer_id, accepted, rejected)
                SELECT id, @writer, accepted, rejected FROM unnest(@ids, @accepted, @rejected) AS b(id, accepted, rejected)
                ON CONFLICT (batch_id) DO NOTHING
                RETURNING batch_id
                """, connection, transaction))
            {
                claim.Parameters.AddWithValue("writer", writer);
                claim.Parameters.AddWithValue("ids", candidates.Select(c => c.BatchId).ToArray());
                claim.Parameters.AddWithValue("accepted", candidates.Select(c => c.Sightings.Count).ToArray());
                claim.Parameters.AddWithValue("rejected", candidates.Select(c => c.Rejected).ToArray());
                var claimed = new HashSet<Guid>();
                await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken)) claimed.Add(reader.GetGuid(0));
                }

                written.AddRange(candidates.Where(c => claimed.Contains(c.BatchId)));
            }

            var earlier = first.Keys.Where(id => written.All(w => w.BatchId != id)).ToArray();
            if (earlier.Length > 0)
            {
                await using var counts = new NpgsqlCommand("SELECT batch_id, accepted FROM sighting_batches WHERE batch_id = ANY(@ids)", connection, transaction);
                counts.Parameters.AddWithValue("ids", earlier);
                await using var reader = await counts.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) recorded[reader.GetGuid(0)] = reader.GetInt32(1);
            }

            var hosts = new Dictionary<long, DateTime>();
            // Text COPY: one formatted line per sighting costs far less than a binary write per column.
            await using (var copy = await connection.BeginTextImportAsync("""
                COPY sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                                       bind_scope, socket_state, process, executable, pid, username, privileged, container_id,
                                       network_namespace, batch_id)
                FROM STDIN
                """, cancellationToken))
            {
                var line = new StringBuilder(256);
                foreach (var pending in written)
                {
                    var batchId = pending.BatchId.ToString();
                    foreach (var s in pending.Sightings)
                    {
                        line.Clear()
                            .Append(writer).Append('\t').Append(++lane.Seq).Append('\t').Append(s.Port).Append('\t').Append((int)s.Transport).Append('\t')
                            .Append((long)s.HostHash).Append('\t');
                        Escape(line, s.HostRef).Append('\t')
                            .Append(s.ObservedAt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append("+00\t")
                            .Append((int)s.AddressFamily).Append('\t');
                        Escape(line, s.LocalAddress).Append('\t').Append((int)s.BindScope).Append('\t').Append((int)s.State).Append('\t');
                        Escape(line, s.Process).Append('\t');
                        Escape(line, s.Executable).Append('\t').Append(s.Pid).Append('\t');
                        Escape(line, s.User).Append('\t').Append(s.Privileged ? 't' : 'f').Append('\t');
                        Escape(line, s.ContainerId).Append('\t');
                        Escape(line, s.NetworkNamespace).Append('\t').Append(batchId).Append('\n');
                        await copy.WriteAsync(line, cancellationToken);
                        var host = (long)s.HostHash;
                        if (!hosts.TryGetValue(host, out var last) || s.ObservedAt > last) hosts[host] = s.ObservedAt;
                    }
                }
            }

            var newHosts = 0;
            if (hosts.Count > 0)
            {
                await using var upsert = new NpgsqlCommand("""
                    INSERT INTO reporting_hosts (host_hash, first_seen, last_seen)
                    SELECT hash, seen, seen FROM unnest(@hashes, @seen) AS h(hash, seen)
                    ON CONFLICT (host_hash) DO UPDATE SET last_seen = greatest(reporting_hosts.last_seen, EXCLUDED.last_seen)
                    RETURNING (xmax = 0)
                    """, connection, transaction);
                var ordered = hosts.OrderBy(h => h.Key).ToArray();
                upsert.Parameters.AddWithValue("hashes", ordered.Select(h => h.Key).ToArray());
                upsert.Parameters.Add(new NpgsqlParameter("seen", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = ordered.Select(h => h.Value).ToArray() });
                await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) newHosts += reader.GetBoolean(0) ? 1 : 0;
            }

            await transaction.CommitAsync(cancellationToken);
            context.HostsAdded(newHosts);
        }
        catch
        {
            // The commit may have gone through even so (the connection died after PostgreSQL committed): the sequence
            // numbers are never used again, and each port is told the journal may hold entries up to them, so its grain
            // reads them if they are there. A retry of the batch then finds it recorded and counts it once.
            lane.Seq = startSeq + written.Sum(p => p.Sightings.Count);
            dispatcher.MayHaveCommitted(writer, LastSeqPerPort(written, startSeq));
            throw;
        }

        // Durable: acknowledge, then hand the sightings to the port grains.
        var next = startSeq;
        foreach (var pending in written)
        {
            var entries = new (int Port, ObservationEntry Entry)[pending.Sightings.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                var s = pending.Sightings[i];
                entries[i] = (s.Port, new ObservationEntry(++next, s.Transport, s.HostHash, s.HostRef, s.Process, s.Executable, s.ObservedAt, s.BindScope, s.Privileged));
            }

            dispatcher.Enqueue(writer, entries);
            pending.Result.TrySetResult(new IngestResult(pending.Sightings.Count, Duplicate: false));
        }

        foreach (var pending in first.Values.Where(p => recorded.ContainsKey(p.BatchId)).Concat(repeats))
        {
            var accepted = recorded.TryGetValue(pending.BatchId, out var count) ? count : pending.Sightings.Count;
            pending.Result.TrySetResult(new IngestResult(accepted, Duplicate: true));
        }
    }

    private static Dictionary<int, long> LastSeqPerPort(List<Pending> written, long startSeq)
    {
        var last = new Dictionary<int, long>();
        var seq = startSeq;
        foreach (var pending in written)
        {
            foreach (var s in pending.Sightings) last[s.Port] = ++seq;
        }

        return last;
    }

    /// <summary>COPY text format: backslash, tab, newline and carriage return are escaped; nothing else needs to be.</summary>
    private static StringBuilder Escape(StringBuilder line, string value)
    {
        if (value.AsSpan().IndexOfAny("\\\t\n\r") < 0) return line.Append(value);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => line.Append("\\\\"),
                '\t' => line.Append("\\t"),
                '\n' => line.Append("\\n"),
                '\r' => line.Append("\\r"),
                _ => line.Append(c),
            };
        }

        return line;
    }

    private async Task<int> RegisterWriterAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await using var command = dataSource.CreateCommand("INSERT INTO sighting_writers DEFAULT VALUES RETURNING writer_id");
                var writer = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
                logger.LogInformation("Journal writer {Writer} registered", writer);
                return writer;
            }
            catch (Exception e) when (DatabaseErrors.IsUnavailable(e) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    private sealed class Lane(int writer)
    {
        public int Writer { get; } = writer;

        public long Seq;
    }

    private sealed record Pending(Guid BatchId, IReadOnlyList<ValidSighting> Sightings, int Rejected)
    {
        public TaskCompletionSource<IngestResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
