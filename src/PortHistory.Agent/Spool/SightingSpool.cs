using System.Globalization;

namespace PortHistory.Agent.Spool;

/// <summary>
/// The agent's durable queue of batches not yet acknowledged by the server, in a directory of its own: numbered segment
/// files of framed records (<see cref="RecordFrame"/>) and a checkpoint (<see cref="SpoolCheckpoint"/>). A record is on
/// disk (fsynced) before it is sent, and leaves only when it is acknowledged, refused, expired, damaged, or dropped as
/// the oldest when the segments would pass the byte bound. Reopening after a crash loses at most the record being
/// written; damage elsewhere costs only the damaged record. Safe to call from several threads.
/// </summary>
public sealed class SightingSpool : IDisposable
{
    /// <summary>Segments are this large at most (plus their last record), smaller under a small bound so dropping stays fine-grained.</summary>
    public const long MaxSegmentBytes = 1024 * 1024;

    /// <summary>The smallest bound: a few segments of the smallest size.</summary>
    public const long MinBytes = 16 * MinSegmentBytes;

    private const long MinSegmentBytes = 4096;

    /// <summary>No segment the spool writes is larger; a larger file of that name is not believed.</summary>
    private const long MaxSegmentFileBytes = MaxSegmentBytes + RecordFrame.HeaderBytes + RecordFrame.MaxPayloadBytes;

    private const string SegmentSuffix = ".seg";
    private const int SegmentNameDigits = 20;
    private const string LockFileName = "lock";

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

    private readonly record struct RecordLocation(SpoolPosition Start, SpoolRecordKind Kind, int Length, uint PayloadCrc)
    {
        public SpoolPosition End => Start with { Offset = Start.Offset + RecordFrame.HeaderBytes + Length };
    }

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
        // Host data: readable by the agent's user only.
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive advisory lock: a second agent on the same spool would send its batches twice.
            lockFile = new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"the spool {directory} is in use by another agent ({e.Message})", e);
        }

        var spool = new SightingSpool(directory, maxBytes, log, lockFile);
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
    public bool Append(SpoolRecordKind kind, ReadOnlySpan<byte> payload)
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
                return false;
            }

            long dropped = 0;
            while (_bytes + size > _maxBytes && _segmentLengths.Count > 0) dropped += DropOldestSegment();
            if (dropped > 0) _log.WriteLine($"spool: full ({_maxBytes} bytes); dropped the {dropped} oldest records");

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

    /// <summary>The oldest record not yet consumed, read back and checked; records found damaged on the way are skipped and counted.</summary>
    public SpoolEntry? Peek()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_records.TryPeek(out var record))
            {
                if (ReadPayload(record) is { } payload) return new SpoolEntry(record.Start, record.Kind, payload);
                _log.WriteLine($"spool: record at {Describe(record.Start)} no longer matches its checksum; skipped");
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

    private void Load()
    {
        var checkpointPath = Path.Combine(_directory, SpoolCheckpoint.FileName);
        if (File.Exists(checkpointPath))
        {
            var bytes = ReadBounded(checkpointPath, 1024);
            if (bytes is not null && SpoolCheckpoint.Decode(bytes) is { } checkpoint)
            {
                _checkpoint = checkpoint;
            }
            else
            {
                _log.WriteLine("spool: the checkpoint is unreadable; everything in the spool is sent again (the server counts each batch once)");
            }
        }

        var segments = Directory.EnumerateFiles(_directory, "*" + SegmentSuffix)
            .Select(path => (Path: path, Sequence: SegmentSequence(Path.GetFileName(path))))
            .Where(segment => segment.Sequence is not null)
            .OrderBy(segment => segment.Sequence)
            .ToList();
        var before = _checkpoint;
        for (var i = 0; i < segments.Count; i++)
        {
            var sequence = segments[i].Sequence!.Value;
            if (sequence < _checkpoint.ConsumedThrough.Segment)
            {
                // Consumed before the last stop, which came before it was deleted.
                File.Delete(segments[i].Path);
                continue;
            }

            LoadSegment(segments[i].Path, sequence, isLast: i == segments.Count - 1);
        }

        if (_checkpoint != before) SaveCheckpoint();
        DeleteConsumedSegments();
    }

    private void LoadSegment(string path, long sequence, bool isLast)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxSegmentFileBytes)
        {
            CountCorrupt(new SpoolPosition(sequence, length), $"{Describe(new SpoolPosition(sequence, 0))}: {length} bytes, more than a segment can hold; deleted");
            File.Delete(path);
            return;
        }

        var bytes = File.ReadAllBytes(path);
        length = bytes.Length;
        var position = sequence == _checkpoint.ConsumedThrough.Segment ? Math.Min(_checkpoint.ConsumedThrough.Offset, length) : 0;
        while (position < length)
        {
            var at = (int)position;
            if (RecordFrame.TryRead(bytes.AsSpan(at), out var kind, out var payloadLength))
            {
                RecordFrame.TryReadHeader(bytes.AsSpan(at), out _, out _, out var payloadCrc);
                _records.Enqueue(new RecordLocation(new SpoolPosition(sequence, position), kind, payloadLength, payloadCrc));
                position += RecordFrame.HeaderBytes + payloadLength;
                continue;
            }

            var next = RecordFrame.FindNext(bytes, at + 1);
            if (next >= 0)
            {
                CountCorrupt(new SpoolPosition(sequence, next), $"{Describe(new SpoolPosition(sequence, position))}: {next - at} damaged bytes skipped");
                position = next;
                continue;
            }

            // Nothing intact follows: a write cut short (or damage at the very end). In the last segment it is cut off so
            // that appending carries on from the last good record.
            CountCorrupt(new SpoolPosition(sequence, length), $"{Describe(new SpoolPosition(sequence, position))}: {length - at} unreadable bytes at the end"
                + (isLast ? ", cut off" : ""));
            if (isLast)
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
                file.SetLength(position);
                file.Flush(flushToDisk: true);
                length = position;
            }

            break;
        }

        _segmentLengths[sequence] = length;
        _bytes += length;
        // A segment shorter than the consumed position (cut by hand) is not appended to: new records there would be skipped.
        var appendable = sequence != _checkpoint.ConsumedThrough.Segment || length >= _checkpoint.ConsumedThrough.Offset;
        if (isLast && appendable && length < _segmentBytes)
        {
            _tail = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
            _tail.Position = length;
            _tailSegment = sequence;
        }
    }

    /// <summary>Counts damage ending at <paramref name="end"/> once, however often the spool is reopened before it is consumed.</summary>
    private void CountCorrupt(SpoolPosition end, string what)
    {
        if (end <= _checkpoint.CorruptCountedThrough) return;
        _checkpoint = _checkpoint with { CorruptRecords = _checkpoint.CorruptRecords + 1, CorruptCountedThrough = end };
        _log.WriteLine($"spool: {what}; counted as one corrupt record");
    }

    private FileStream TailFor()
    {
        if (_tail is not null && _segmentLengths[_tailSegment] < _segmentBytes) return _tail;
        _tail?.Dispose();
        // Above the consumed segment, so the next opening reads the new segment from its start.
        var sequence = Math.Max(_segmentLengths.Count > 0 ? _segmentLengths.Keys.Max() + 1 : 1, _checkpoint.ConsumedThrough.Segment + 1);
        _tail = new FileStream(SegmentPath(sequence), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        _tailSegment = sequence;
        _segmentLengths[sequence] = 0;
        DurableFile.SyncDirectory(_directory);
        return _tail;
    }

    private long DropOldestSegment()
    {
        var sequence = _segmentLengths.Keys.First();
        long dropped = 0;
        while (_records.TryPeek(out var record) && record.Start.Segment == sequence)
        {
            _records.Dequeue();
            dropped++;
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
            DroppedRecords = _checkpoint.DroppedRecords + dropped,
        };
        SaveCheckpoint();
        File.Delete(SegmentPath(sequence));
        _bytes -= _segmentLengths[sequence];
        _segmentLengths.Remove(sequence);
        return dropped;
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
            File.Delete(SegmentPath(sequence));
            _bytes -= _segmentLengths[sequence];
            _segmentLengths.Remove(sequence);
        }
    }

    private byte[]? ReadPayload(RecordLocation record)
    {
        try
        {
            using var handle = File.OpenHandle(SegmentPath(record.Start.Segment));
            var payload = new byte[record.Length];
            var read = 0;
            while (read < payload.Length)
            {
                var n = RandomAccess.Read(handle, payload.AsSpan(read), record.Start.Offset + RecordFrame.HeaderBytes + read);
                if (n == 0) return null;
                read += n;
            }

            return RecordFrame.PayloadIntact(payload, record.PayloadCrc) ? payload : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void SaveCheckpoint() => DurableFile.Replace(Path.Combine(_directory, SpoolCheckpoint.FileName), _checkpoint.Encode());

    private string SegmentPath(long sequence) =>
        Path.Combine(_directory, sequence.ToString(CultureInfo.InvariantCulture).PadLeft(SegmentNameDigits, '0') + SegmentSuffix);

    private static long? SegmentSequence(string fileName)
    {
        if (fileName.Length != SegmentNameDigits + SegmentSuffix.Length || !fileName.EndsWith(SegmentSuffix, StringComparison.Ordinal)) return null;
        var digits = fileName.AsSpan(0, SegmentNameDigits);
        return digits.ContainsAnyExceptInRange('0', '9') || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            ? null
            : sequence;
    }

    private static string Describe(SpoolPosition position) =>
        string.Create(CultureInfo.InvariantCulture, $"segment {position.Segment} offset {position.Offset}");

    private static byte[]? ReadBounded(string path, int maxBytes)
    {
        using var file = File.OpenRead(path);
        if (file.Length > maxBytes) return null;
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
