using System.Buffers.Binary;
using System.Text;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Persistence.Hosts;

/// <summary>
/// A host's socket set as stored in its row (hosts.sockets): per socket its port, transport, scope, process id and
/// since-time in 12 bytes, and the address of a specific bind after them. A million hosts of fifty sockets take some
/// 600 MB this way, against several GB as text.
/// </summary>
public static class HostSocketCodec
{
    private const byte Version = 1;

    public static byte[] Encode(IReadOnlyList<HostSocketEntry> sockets)
    {
        var size = 1 + sockets.Sum(s => 13 + Encoding.UTF8.GetByteCount(s.Address));
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = Version;
        var at = 1;
        foreach (var s in sockets)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)s.Port);
            span[at + 2] = (byte)s.Transport;
            span[at + 3] = (byte)s.Scope;
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], s.ProcessId);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 8)..], (uint)Math.Clamp(new DateTimeOffset(DateTime.SpecifyKind(s.Since, DateTimeKind.Utc)).ToUnixTimeSeconds(), 0, uint.MaxValue));
            var length = Encoding.UTF8.GetBytes(s.Address, span[(at + 13)..]);
            span[at + 12] = (byte)length;
            at += 13 + length;
        }

        return bytes;
    }

    public static HostSocketEntry[] Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return [];
        if (bytes[0] != Version) throw new InvalidDataException($"host sockets encoded in version {bytes[0]}, not {Version}");
        var sockets = new List<HostSocketEntry>();
        var at = 1;
        while (at < bytes.Length)
        {
            var length = bytes[at + 12];
            sockets.Add(new HostSocketEntry(
                BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]),
                (Transport)bytes[at + 2],
                BinaryPrimitives.ReadInt32LittleEndian(bytes[(at + 4)..]),
                (BindScope)bytes[at + 3],
                length == 0 ? "" : Encoding.UTF8.GetString(bytes.Slice(at + 13, length)),
                DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 8)..])).UtcDateTime));
            at += 13 + length;
        }

        return [.. sockets];
    }
}
