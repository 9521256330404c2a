namespace PortHistory.Agent.Spool;

/// <summary>What opening a spool directory found: the records still to send, the segments they lie in, and where to append.</summary>
internal sealed class RecoveredSpool
{
    public SpoolCheckpoint Checkpoint { get; set; } = SpoolCheckpoint.Empty;

    /// <summary>Whether the checkpoint changed while reading (damage counted) and must be saved.</summary>
    public bool CheckpointChanged { get; set; }

    public Queue<RecordLocation> Records { get; } = new();

    public SortedDictionary<long, long> SegmentLengths { get; } = [];

    public long Bytes { get; set; }

    /// <summary>The last segment, open for appending, when it has room and may be appended to.</summary>
    public FileStream? Tail { get; set; }

    public long TailSegment { get; set; } = -1;
}

/// <summary>
/// Reads a spool directory back after a stop or a crash: the checkpoint, then every segment from the consumed position
/// on. Damaged records are skipped and counted once, a torn last record is cut off, consumed segments are deleted.
/// </summary>
internal static class SpoolRecovery
{
    public static RecoveredSpool Load(string directory, long segmentBytes, TextWriter log)
    {
        var spool = new RecoveredSpool { Checkpoint = ReadCheckpoint(directory, log) };
        var before = spool.Checkpoint;
        var segments = SpoolDirectory.List(directory);
        for (var i = 0; i < segments.Count; i++)
        {
            var (path, sequence) = segments[i];
            if (sequence < spool.Checkpoint.ConsumedThrough.Segment)
            {
                // Consumed before the last stop, which came before it was deleted.
                File.Delete(path);
                continue;
            }

            LoadSegment(spool, path, sequence, isLast: i == segments.Count - 1, segmentBytes, log);
        }

        spool.CheckpointChanged = spool.Checkpoint != before;
        return spool;
    }

    private static SpoolCheckpoint ReadCheckpoint(string directory, TextWriter log)
    {
        var path = Path.Combine(directory, SpoolCheckpoint.FileName);
        if (!File.Exists(path)) return SpoolCheckpoint.Empty;
        if (ReadBounded(path, 1024) is { } bytes && SpoolCheckpoint.Decode(bytes) is { } checkpoint) return checkpoint;
        log.WriteLine("spool: the checkpoint is unreadable; everything in the spool is sent again (the server counts each batch once)");
        return SpoolCheckpoint.Empty;
    }

    private static void LoadSegment(RecoveredSpool spool, string path, long sequence, bool isLast, long segmentBytes, TextWriter log)
    {
        var length = new FileInfo(path).Length;
        if (length > SightingSpool.MaxSegmentFileBytes)
        {
            CountCorrupt(spool, new SpoolPosition(sequence, length),
                $"{SpoolDirectory.Describe(new SpoolPosition(sequence, 0))}: {length} bytes, more than a segment can hold; deleted", log);
            File.Delete(path);
            return;
        }

        var bytes = File.ReadAllBytes(path);
        length = bytes.Length;
        var consumed = spool.Checkpoint.ConsumedThrough;
        var position = sequence == consumed.Segment ? Math.Min(consumed.Offset, length) : 0;
        while (position < length)
        {
            var at = (int)position;
            if (RecordFrame.TryRead(bytes.AsSpan(at), out var kind, out var payloadLength))
            {
                RecordFrame.TryReadHeader(bytes.AsSpan(at), out _, out _, out var payloadCrc);
                spool.Records.Enqueue(new RecordLocation(new SpoolPosition(sequence, position), kind, payloadLength, payloadCrc));
                position += RecordFrame.HeaderBytes + payloadLength;
                continue;
            }

            var next = RecordFrame.FindNext(bytes, at + 1);
            if (next >= 0)
            {
                CountCorrupt(spool, new SpoolPosition(sequence, next),
                    $"{SpoolDirectory.Describe(new SpoolPosition(sequence, position))}: {next - at} damaged bytes skipped", log);
                position = next;
                continue;
            }

            // Nothing intact follows: a write cut short (or damage at the very end). In the last segment it is cut off so
            // that appending carries on from the last good record.
            CountCorrupt(spool, new SpoolPosition(sequence, length),
                $"{SpoolDirectory.Describe(new SpoolPosition(sequence, position))}: {length - at} unreadable bytes at the end" + (isLast ? ", cut off" : ""), log);
            if (isLast)
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
                file.SetLength(position);
                file.Flush(flushToDisk: true);
                length = position;
            }

            break;
        }

        spool.SegmentLengths[sequence] = length;
        spool.Bytes += length;
        // A segment shorter than the consumed position (cut by hand) is not appended to: new records there would be skipped.
        var appendable = sequence != consumed.Segment || length >= consumed.Offset;
        if (isLast && appendable && length < segmentBytes)
        {
            spool.Tail = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read) { Position = length };
            spool.TailSegment = sequence;
        }
    }

    /// <summary>Counts damage ending at <paramref name="end"/> once, however often the spool is reopened before it is consumed.</summary>
    private static void CountCorrupt(RecoveredSpool spool, SpoolPosition end, string what, TextWriter log)
    {
        if (end <= spool.Checkpoint.CorruptCountedThrough) return;
        spool.Checkpoint = spool.Checkpoint with { CorruptRecords = spool.Checkpoint.CorruptRecords + 1, CorruptCountedThrough = end };
        log.WriteLine($"spool: {what}; counted as one corrupt record");
    }

    private static byte[]? ReadBounded(string path, int maxBytes)
    {
        using var file = File.OpenRead(path);
        if (file.Length > maxBytes) return null;
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
