using System.Buffers.Binary;
using System.IO.Hashing;
using Google.Protobuf;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Reporting;

/// <summary>
/// What differential reporting keeps on disk beside the spool (the file "reporting"): the epoch, the set and seq of the
/// last report spooled (what the next scan is compared with) and of the last one the server acknowledged, what the
/// spool lost, and when a snapshot is due. Lost or unreadable, it is started again: a new epoch whose first report is
/// a snapshot. Not thread-safe: <see cref="HostReporting"/> guards it.
/// </summary>
public sealed class ReportingState
{
    public const string FileName = "reporting";

    /// <summary>A state larger than this is not believed (a set of 100,000 sockets is about 10 MiB).</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    private const uint Magic = 0x53524850; // "PHRS"
    private const byte Version = 1;
    private const int FixedBytes = 4 + 1 + (7 * 8) + 1;

    public ulong EpochId { get; private set; }

    public DateTimeOffset EpochStartedAt { get; private set; }

    /// <summary>The seq of the last report spooled in this epoch; 0 before the first.</summary>
    public ulong SpooledSeq { get; set; }

    /// <summary>The set as of the last report spooled: what the next scan is compared with.</summary>
    public HashSet<HostSocket> SpooledSet { get; set; } = [];

    public ulong AcknowledgedSeq { get; set; }

    /// <summary>The set as of the last report the server acknowledged (applied, or had applied before).</summary>
    public HashSet<HostSocket> AcknowledgedSet { get; set; } = [];

    /// <summary>Reports the spool dropped (full) in this epoch, and their bytes.</summary>
    public ulong DroppedReports { get; set; }

    public ulong DroppedBytes { get; set; }

    /// <summary>The chain of changes is broken (a report dropped or lost, the server out of step): the next report is a snapshot.</summary>
    public bool SnapshotDue { get; set; }

    /// <summary>A server answered that it does not know ReportHost; a later run asks again before it reports differentially.</summary>
    public bool OlderServerSeen { get; set; }

    /// <summary>The daily snapshot; the first report of an epoch is one anyway.</summary>
    public DateTimeOffset NextSnapshotAt { get; set; }

    public ReportEpoch Epoch => new() { Id = EpochId, StartedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(EpochStartedAt) };

    /// <summary>A state of its own: a new epoch, nothing reported yet, the first report a snapshot.</summary>
    public static ReportingState NewEpoch(ulong id, DateTimeOffset startedAt, bool olderServerSeen = false)
    {
        // Milliseconds, as the file keeps it, so that the epoch reads back as it was sent.
        var started = DateTimeOffset.FromUnixTimeMilliseconds(startedAt.ToUnixTimeMilliseconds());
        return new ReportingState { EpochId = id, EpochStartedAt = started, SnapshotDue = true, OlderServerSeen = olderServerSeen };
    }

    public byte[] Encode()
    {
        var spooled = Snapshot(SpooledSet).ToByteArray();
        var acknowledged = Snapshot(AcknowledgedSet).ToByteArray();
        var bytes = new byte[FixedBytes + 4 + spooled.Length + 4 + acknowledged.Length + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        bytes[4] = Version;
        var at = 5;
        foreach (var field in new[] { EpochId, (ulong)EpochStartedAt.ToUnixTimeMilliseconds(), SpooledSeq, AcknowledgedSeq, DroppedReports, DroppedBytes,
                     (ulong)NextSnapshotAt.ToUnixTimeMilliseconds() })
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), field);
            at += 8;
        }

        bytes[at++] = (byte)((SnapshotDue ? 1 : 0) | (OlderServerSeen ? 2 : 0));
        foreach (var set in new[] { spooled, acknowledged })
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), set.Length);
            set.CopyTo(bytes, at + 4);
            at += 4 + set.Length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), Crc32.HashToUInt32(bytes.AsSpan(0, at)));
        return bytes;
    }

    /// <summary>Null unless the bytes are exactly one intact state.</summary>
    public static ReportingState? Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < FixedBytes + 12 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || bytes[4] != Version) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) != Crc32.HashToUInt32(bytes[..^4])) return null;
        var fields = new ulong[7];
        for (var i = 0; i < fields.Length; i++) fields[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(5 + (8 * i))..]);
        var flags = bytes[FixedBytes - 1];
        var rest = bytes[FixedBytes..^4];
        if (Set(ref rest) is not { } spooled || Set(ref rest) is not { } acknowledged || rest.Length != 0) return null;
        if (Time(fields[1]) is not { } startedAt || Time(fields[6]) is not { } nextSnapshotAt) return null;
        return new ReportingState
        {
            EpochId = fields[0], EpochStartedAt = startedAt, SpooledSeq = fields[2], AcknowledgedSeq = fields[3], DroppedReports = fields[4],
            DroppedBytes = fields[5], NextSnapshotAt = nextSnapshotAt, SnapshotDue = (flags & 1) != 0, OlderServerSeen = (flags & 2) != 0,
            SpooledSet = spooled, AcknowledgedSet = acknowledged,
        };
    }

    /// <summary>The state in <paramref name="directory"/>, or null when there is none or it cannot be read (said on <paramref name="log"/>).</summary>
    public static ReportingState? Load(string directory, TextWriter log)
    {
        var path = Path.Combine(directory, FileName);
        try
        {
            using var file = File.OpenRead(path);
            if (file.Length <= MaxBytes)
            {
                var bytes = new byte[file.Length];
                file.ReadExactly(bytes);
                if (Decode(bytes) is { } state) return state;
            }
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.WriteLine($"reporting: cannot read {path}: {e.Message}");
            return null;
        }

        log.WriteLine($"reporting: {path} is unreadable; a new epoch begins with a snapshot");
        return null;
    }

    public void Save(string directory) => DurableFile.Replace(Path.Combine(directory, FileName), Encode());

    private static HostSnapshot Snapshot(IEnumerable<HostSocket> set)
    {
        var snapshot = new HostSnapshot();
        snapshot.Sockets.AddRange(HostSockets.Ordered(set));
        return snapshot;
    }

    private static HashSet<HostSocket>? Set(ref ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (length < 0 || length > bytes.Length - 4) return null;
        try
        {
            var set = HostSnapshot.Parser.ParseFrom(bytes.Slice(4, length)).Sockets.ToHashSet();
            bytes = bytes[(4 + length)..];
            return set;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static DateTimeOffset? Time(ulong milliseconds) =>
        milliseconds <= 253_402_300_799_999 ? DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds) : null;
}
