using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;

namespace PortHistory.Contracts.V1;

/// <summary>
/// The digest of a host's socket set that differential reports carry (HostReport.set_hash): the exclusive or of a
/// 16-byte digest of every member. Agent and server compute it here, the one definition; being an exclusive or, it
/// follows a change in the time of the change (add or remove a member: xor its digest), not of the set.
/// </summary>
public readonly record struct SocketSetHash(ulong High, ulong Low)
{
    public const int Length = 16;

    public static readonly SocketSetHash Empty = default;

    /// <summary>
    /// The digest of a set; a socket listed twice counts once. Repeats are found by their digest, which is of the
    /// identity fields only (two copies differing in a field this version does not know are the same socket).
    /// </summary>
    public static SocketSetHash Of(IEnumerable<HostSocket> sockets)
    {
        var hash = Empty;
        foreach (var member in new HashSet<SocketSetHash>(sockets.Select(Member))) hash ^= member;
        return hash;
    }

    /// <summary>One member's digest: SHA-256 of its identity fields in a fixed order, cut to 16 bytes.</summary>
    public static SocketSetHash Member(HostSocket socket)
    {
        // Fields separated by NUL, which no validated text may hold; numbers in decimal.
        var text = string.Join('\0', (int)socket.Transport, socket.Port, (int)socket.BindScope, socket.BoundAddress, socket.ProcessName,
            socket.Executable, socket.Program, socket.SystemdUnit);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return new SocketSetHash(BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
    }

    public static SocketSetHash operator ^(SocketSetHash a, SocketSetHash b) => new(a.High ^ b.High, a.Low ^ b.Low);

    /// <summary>Null when the bytes are not a digest (not 16 bytes).</summary>
    public static SocketSetHash? From(ByteString bytes)
    {
        if (bytes.Length != Length) return null;
        var span = bytes.Span;
        return new SocketSetHash(BinaryPrimitives.ReadUInt64BigEndian(span), BinaryPrimitives.ReadUInt64BigEndian(span[8..]));
    }

    public ByteString ToByteString()
    {
        var bytes = new byte[Length];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), Low);
        return ByteString.CopyFrom(bytes);
    }

    public override string ToString() => $"{High:x16}{Low:x16}";
}
