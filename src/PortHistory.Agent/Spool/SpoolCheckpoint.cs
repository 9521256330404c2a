using System.Buffers.Binary;
using System.IO.Hashing;

namespace PortHistory.Agent.Spool;

/// <summary>
/// What the spool keeps beside its segments (the file "ack"): how far records have been consumed (acknowledged or
/// dropped), how far damaged records have been counted, and the running counts of records lost.
/// </summary>
/// <param name="ConsumedThrough">Everything before this position has been sent or given up.</param>
/// <param name="CorruptCountedThrough">Damage before this position is already in <paramref name="CorruptRecords"/>; reopening does not count it again.</param>
/// <param name="DroppedRecords">Oldest records let go to keep the spool within its byte bound.</param>
/// <param name="CorruptRecords">Records lost to damage on disk (checksum, torn write, unreadable content).</param>
/// <param name="ExpiredSightings">Sightings older than the server accepts, removed instead of sent.</param>
public sealed record SpoolCheckpoint(
    SpoolPosition ConsumedThrough, SpoolPosition CorruptCountedThrough, long DroppedRecords, long CorruptRecords, long ExpiredSightings)
{
    public const string FileName = "ack";

    private const uint Magic = 0x4B434850; // "PHCK"
    private const int Bytes = 4 + (7 * 8) + 4;

    public static SpoolCheckpoint Empty { get; } = new(default, default, 0, 0, 0);

    public byte[] Encode()
    {
        var bytes = new byte[Bytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        long[] fields = [ConsumedThrough.Segment, ConsumedThrough.Offset, CorruptCountedThrough.Segment, CorruptCountedThrough.Offset,
            DroppedRecords, CorruptRecords, ExpiredSightings];
        for (var i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4 + (8 * i)), fields[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Bytes - 4), Crc32.HashToUInt32(bytes.AsSpan(0, Bytes - 4)));
        return bytes;
    }

    /// <summary>Null unless the bytes are exactly one intact checkpoint with no negative field.</summary>
    public static SpoolCheckpoint? Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Bytes || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[(Bytes - 4)..]) != Crc32.HashToUInt32(bytes[..(Bytes - 4)])) return null;
        var fields = new long[7];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(4 + (8 * i))..]);
            if (fields[i] < 0) return null;
        }

        return new SpoolCheckpoint(new SpoolPosition(fields[0], fields[1]), new SpoolPosition(fields[2], fields[3]), fields[4], fields[5], fields[6]);
    }
}
