using System.Buffers.Binary;
using System.IO.Hashing;

namespace PortHistory.Agent.Spool;

/// <summary>
/// How one record is laid out in a segment: magic, kind, payload length, payload CRC-32 and a CRC-32 of those header
/// fields, then the payload. The header's own checksum means a damaged length is never followed; reading then looks
/// for the next intact header instead.
/// </summary>
public static class RecordFrame
{
    /// <summary>"PHS1", little-endian.</summary>
    public const uint Magic = 0x31534850;

    public const int HeaderBytes = 17;

    /// <summary>Larger payloads are neither written nor believed when read (a batch of 5000 sightings is about 1 MiB).</summary>
    public const int MaxPayloadBytes = 16 * 1024 * 1024;

    public static byte[] Encode(SpoolRecordKind kind, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayloadBytes) throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"over {MaxPayloadBytes} bytes");
        var frame = new byte[HeaderBytes + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
        frame[4] = (byte)kind;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(5), payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(9), Crc32.HashToUInt32(payload));
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(13), Crc32.HashToUInt32(frame.AsSpan(0, 13)));
        payload.CopyTo(frame.AsSpan(HeaderBytes));
        return frame;
    }

    /// <summary>The header at the start of <paramref name="bytes"/>, if it is intact (its checksum holds and its length is believable).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, out SpoolRecordKind kind, out int length, out uint payloadCrc)
    {
        kind = default;
        length = 0;
        payloadCrc = 0;
        if (bytes.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic) return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[13..]) != Crc32.HashToUInt32(bytes[..13])) return false;
        length = BinaryPrimitives.ReadInt32LittleEndian(bytes[5..]);
        if (length is < 0 or > MaxPayloadBytes) return false;
        kind = (SpoolRecordKind)bytes[4];
        payloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[9..]);
        return true;
    }

    /// <summary>Whether a whole, intact record starts at the beginning of <paramref name="bytes"/>; its size when it does.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out SpoolRecordKind kind, out int length)
    {
        if (!TryReadHeader(bytes, out kind, out length, out var payloadCrc)) return false;
        return bytes.Length - HeaderBytes >= length && Crc32.HashToUInt32(bytes.Slice(HeaderBytes, length)) == payloadCrc;
    }

    /// <summary>Whether the payload read back matches the checksum its header promised.</summary>
    public static bool PayloadIntact(ReadOnlySpan<byte> payload, uint payloadCrc) => Crc32.HashToUInt32(payload) == payloadCrc;

    /// <summary>The offset of the next intact record at or after <paramref name="from"/>, or -1.</summary>
    public static int FindNext(ReadOnlySpan<byte> bytes, int from)
    {
        Span<byte> magic = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(magic, Magic);
        for (var at = from; at <= bytes.Length - HeaderBytes;)
        {
            var found = bytes[at..].IndexOf(magic);
            if (found < 0) return -1;
            at += found;
            if (TryRead(bytes[at..], out _, out _)) return at;
            at++;
        }

        return -1;
    }
}
