// One job, the durable queue: append, drop and consume each keep the segments and the checkpoint in step under one lock.
namespace PortHistory.Agent.Spool;

/// <summary>
/// The agent's durable queue of batches not yet acknowledged by the server, in a directory of its own: numbered segment
/// files of framed records (<see cref="RecordFrame"/>) and a checkpoint (<see cref="SpoolCheckpoint"/>). A record is on
/// disk (fsynced) before it is sent, and leaves only when it is acknowledged, refused, expired, damaged, or dropped as
/// the oldest when the segments would pass the byte bound. Reopening after a crash loses at most the record being
/// written (<see cref="SpoolRecovery"/>); damage elsewhere costs only the damaged record. Safe to call from several threads.
/// </summary>
public sealed class SightingSpool : IDisposable
{
    /// <summary>Segments are this large at most (plus their last record), smaller under a small bound so dropping stays fine-grained.</summary>
    public const long MaxSegmentBytes = 1024 * 1024;

    /// <summary>The smallest bound: a few segments of the smallest size.</summary>
    public const long MinBytes = 16 * MinSegmentBytes;

    /// <summary>No segment the spool writes is larger; a larger file of that name is not believed.</summary>
    internal const long MaxSegmentFileBytes = MaxSegmentBytes + RecordFrame.HeaderBytes + RecordFrame.MaxPayloadBytes;

    private const long MinSegmentBytes = 4096;

    private readonly Lock _gate = new();
    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly TextWriter _log;
    private readonly FileStream _lock;
    private readonly SortedDictionary<long, long> _segmentLengths = [];
    private readonly Queue<RecordLocation> _records = new();
    private SpoolCheckpoint _checkpoint = SpoolCheckpoint.Empty;
    private long _bytes;
    private FileStream? _tail;
    private long _tailSegment = -1;
    private bool _disposed;

    private SightingSpool(string directory, long maxBytes, TextWriter log, FileStream lockFile)
    {
        _directory = directory;
        _maxBytes = maxBytes;
        _segmentBytes = Math.Clamp(maxBytes / 16, MinSegmentBytes, MaxSegmentBytes);
        _log = log;
        _lock = lockFile;
    }

    /// <summary>
    /// Opens (creating if needed) the spool in <paramref name="directory"/>, which one agent at a time may hold. Damaged
    /// records are skipped and counted, a torn last record is cut off, and what was left unsent is queued again.
    /// </summary>
    /// <exception cref="IOException">Another process holds the spool, or the directory cannot be used.</exception>
    public static SightingSpool Open(string directory, long maxBytes, TextWriter log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, MinBytes);
        var spool = new SightingSpool(directory, maxBytes, log, SpoolDirectory.CreateAndLock(directory));
        try
        {
            spool.Load();
            return spool;
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }

    public SpoolFigures Figures
    {
        get
        {
            lock (_gate)
            {
                return new SpoolFigures(_records.Count, _bytes, _checkpoint.DroppedRecords, _checkpoint.CorruptRecords, _checkpoint.ExpiredSightings);
            }
        }
    }

    /// <summary>
    /// Writes the record and flushes it to disk. The oldest segments are dropped (and counted) first when the new record
    /// would take the segments past the bound; a record larger than the bound itself is not written and counts as dropped.
    /// </summary>
    /// <returns>Whether the record was written.</returns>
    public bool Append(SpoolRecordKind kind, ReadOnlySpan<byte> payload) => Append(kind, payload, out _);

    /// <inheritdoc cref="Append(SpoolRecordKind, ReadOnlySpan{byte})"/>
    /// <param name="dropped">The records let go to make room (or this one, when it was too large), oldest first.</param>
    public bool Append(SpoolRecordKind kind, ReadOnlySpan<byte> payload, out IReadOnlyList<DroppedRecord> dropped)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long size = RecordFrame.HeaderBytes + payload.Length;
            if (payload.Length > RecordFrame.MaxPayloadBytes || size > _maxBytes)
            {
                _checkpoint = _checkpoint with { DroppedRecords = _checkpoint.DroppedRecords + 1 };
                SaveCheckpoint();
                _log.WriteLine($"spool: a record of {size} bytes is larger than the spool's bound of {_maxBytes} bytes; dropped");
                dropped = [new DroppedRecord(kind, size)];
                return false;
            }

            var droppedNow = new List<DroppedRecord>();
            while (_bytes + size > _maxBytes && _segmentLengths.Count > 0) DropOldestSegment(droppedNow);
            if (droppedNow.Count > 0) _log.WriteLine($"spool: full ({_maxBytes} bytes); dropped the {droppedNow.Count} oldest records");
            dropped = droppedNow;

            var tail = TailFor();
            var start = new SpoolPosition(_tailSegment, _segmentLengths[_tailSegment]);
            var frame = RecordFrame.Encode(kind, payload);
            try
            {
                tail.Write(frame);
                tail.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // A partial write would otherwise be taken for a torn record after the next opening.
                tail.SetLength(start.Offset);
                tail.Position = start.Offset;
                throw;
            }

            _segmentLengths[_tailSegment] += frame.Length;
            _bytes += frame.Length;
            RecordFrame.TryReadHeader(frame, out _, out _, out var payloadCrc);
            _records.Enqueue(new RecordLocation(start, kind, payload.Length, payloadCrc));
            return true;
        }
    }

    /// <summary>Whether appending a record of <paramref name="payloadBytes"/> now would drop the oldest records to stay within the bound.</summary>
    public bool WouldDrop(int payloadBytes)
    {
        lock (_gate) return _bytes + RecordFrame.HeaderBytes + payloadBytes > _maxBytes;
    }

    /// <summary>The oldest record not yet consumed, read back and checked; records found damaged on the way are skipped and counted.</summary>
    public SpoolEntry? Peek()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_records.TryPeek(out var record))
            {
                if (SpoolDirectory.ReadPayload(_directory, record) is { } payload) return new SpoolEntry(record.Start, record.Kind, payload);
                _log.WriteLine($"spool: record at {SpoolDirectory.Describe(record.Start)} no longer matches its checksum; skipped");
                Consume(countCorrupt: true, expiredSightings: 0);
            }

            return null;
        }
    }

    /// <summary>
    /// Removes the entry (sent, refused, or expired); <paramref name="expiredSightings"/> of its sightings were too old to send.
    /// False when it had already left (dropped as the oldest while it was being sent).
    /// </summary>
    public bool Acknowledge(SpoolEntry entry, long expiredSightings = 0) => Remove(entry, countCorrupt: false, expiredSightings);

    /// <summary>Removes an entry whose content cannot be used (intact on disk but unreadable, or of an unknown kind) and counts it as corrupt.</summary>
    public bool Discard(SpoolEntry entry) => Remove(entry, countCorrupt: true, expiredSightings: 0);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _tail?.Dispose();
            _lock.Dispose();
        }
    }

    private bool Remove(SpoolEntry entry, bool countCorrupt, long expiredSightings)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expiredSightings);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_records.TryPeek(out var head) || head.Start != entry.Start) return false;
            Consume(countCorrupt, expiredSightings);
            return true;
        }
    }

    private void Load()
    {
        var recovered = SpoolRecovery.Load(_directory, _segmentBytes, _log);
        _checkpoint = recovered.Checkpoint;
        foreach (var record in recovered.Records) _records.Enqueue(record);
        foreach (var (sequence, length) in recovered.SegmentLengths) _segmentLengths[sequence] = length;
        _bytes = recovered.Bytes;
        (_tail, _tailSegment) = (recovered.Tail, recovered.TailSegment);
        if (recovered.CheckpointChanged) SaveCheckpoint();
        DeleteConsumedSegments();
    }

    private FileStream TailFor()
    {
        if (_tail is not null && _segmentLengths[_tailSegment] < _segmentBytes) return _tail;
        _tail?.Dispose();
        // Above the consumed segment, so the next opening reads the new segment from its start.
        var sequence = Math.Max(_segmentLengths.Count > 0 ? _segmentLengths.Keys.Max() + 1 : 1, _checkpoint.ConsumedThrough.Segment + 1);
        _tail = new FileStream(SpoolDirectory.PathOf(_directory, sequence), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        _tailSegment = sequence;
        _segmentLengths[sequence] = 0;
        DurableFile.SyncDirectory(_directory);
        return _tail;
    }

    private void DropOldestSegment(List<DroppedRecord> dropped)
    {
        var sequence = _segmentLengths.Keys.First();
        var before = dropped.Count;
        while (_records.TryPeek(out var record) && record.Start.Segment == sequence)
        {
            _records.Dequeue();
            dropped.Add(new DroppedRecord(record.Kind, record.Bytes));
        }

        if (sequence == _tailSegment)
        {
            _tail?.Dispose();
            _tail = null;
            _tailSegment = -1;
        }

        _checkpoint = _checkpoint with
        {
            ConsumedThrough = SpoolPosition.Max(_checkpoint.ConsumedThrough, new SpoolPosition(sequence + 1, 0)),
            DroppedRecords = _checkpoint.DroppedRecords + (dropped.Count - before),
        };
        SaveCheckpoint();
        File.Delete(SpoolDirectory.PathOf(_directory, sequence));
        _bytes -= _segmentLengths[sequence];
        _segmentLengths.Remove(sequence);
    }

    private void Consume(bool countCorrupt, long expiredSightings)
    {
        var record = _records.Dequeue();
        _checkpoint = _checkpoint with
        {
            ConsumedThrough = SpoolPosition.Max(_checkpoint.ConsumedThrough, record.End),
            CorruptRecords = _checkpoint.CorruptRecords + (countCorrupt ? 1 : 0),
            CorruptCountedThrough = countCorrupt ? SpoolPosition.Max(_checkpoint.CorruptCountedThrough, record.End) : _checkpoint.CorruptCountedThrough,
            ExpiredSightings = _checkpoint.ExpiredSightings + expiredSightings,
        };
        SaveCheckpoint();
        DeleteConsumedSegments();
    }

    /// <summary>Deletes segments wholly before the oldest waiting record, keeping the last segment for appending.</summary>
    private void DeleteConsumedSegments()
    {
        if (_segmentLengths.Count == 0) return;
        var keepFrom = _records.TryPeek(out var oldest) ? oldest.Start.Segment : _segmentLengths.Keys.Max();
        foreach (var sequence in _segmentLengths.Keys.Where(s => s < keepFrom && s != _tailSegment).ToList())
        {
            File.Delete(SpoolDirectory.PathOf(_directory, sequence));
            _bytes -= _segmentLengths[sequence];
            _segmentLengths.Remove(sequence);
        }
    }

    private void SaveCheckpoint() => DurableFile.Replace(Path.Combine(_directory, SpoolCheckpoint.FileName), _checkpoint.Encode());
}
