using System.Globalization;
using System.Net;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Scanning;

/// <summary>A listening (TCP) or bound, unconnected (UDP) socket as the kernel lists it in /proc/net.</summary>
/// <param name="Uid">The socket's owner uid from the table; tells the user even when the owning process cannot be seen.</param>
public sealed record SocketEntry(Transport Transport, AddressFamily AddressFamily, IPAddress Address, int Port, SocketState State, uint Uid, ulong Inode);

/// <summary>Parses /proc/net/tcp, tcp6, udp and udp6.</summary>
public static class ProcNetTable
{
    // include/net/tcp_states.h: unconnected UDP sockets sit in TCP_CLOSE.
    private const byte TcpListen = 0x0A;
    private const byte UdpUnconnected = 0x07;

    /// <summary>The sockets worth reporting in one table; connections, malformed lines and the header are left out.</summary>
    public static IReadOnlyList<SocketEntry> Parse(string text, Transport transport, AddressFamily family)
    {
        if (transport is not (Transport.Tcp or Transport.Udp)) throw new ArgumentOutOfRangeException(nameof(transport), transport, "only tcp and udp tables exist");
        if (family is not (AddressFamily.Ipv4 or AddressFamily.Ipv6)) throw new ArgumentOutOfRangeException(nameof(family), family, "ipv4 or ipv6");

        var entries = new List<SocketEntry>();
        foreach (var line in text.Split('\n'))
        {
            // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (columns.Length < 10 || !columns[0].EndsWith(':')) continue;
            if (!byte.TryParse(columns[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var st)) continue;

            SocketState state;
            if (transport == Transport.Tcp && st == TcpListen) state = SocketState.Listen;
            else if (transport == Transport.Udp && st == UdpUnconnected) state = SocketState.Bound;
            else continue;

            if (!TryParseEndpoint(columns[1], family, out var address, out var port)) continue;
            if (!uint.TryParse(columns[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)) continue;
            if (!ulong.TryParse(columns[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode)) continue;
            entries.Add(new SocketEntry(transport, family, address, port, state, uid, inode));
        }

        return [.. entries.DistinctBy(e => (e.Transport, e.Address, e.Port, e.Inode))];
    }

    /// <summary>"0100007F:0016" → 127.0.0.1, 22. The kernel prints each 32-bit word of the address in host byte order.</summary>
    public static bool TryParseEndpoint(string text, AddressFamily family, out IPAddress address, out int port)
    {
        address = IPAddress.None;
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon < 0) return false;
        var hex = text.AsSpan(0, colon);
        if (hex.Length != (family == AddressFamily.Ipv6 ? 32 : 8)) return false;
        if (!ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var parsedPort)) return false;

        Span<byte> bytes = stackalloc byte[hex.Length / 2];
        for (var word = 0; word < hex.Length / 8; word++)
        {
            if (!uint.TryParse(hex.Slice(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)) return false;
            // Written back in host order, the word's bytes come out in network order again.
            BitConverter.TryWriteBytes(bytes.Slice(word * 4, 4), value);
        }

        address = new IPAddress(bytes);
        port = parsedPort;
        return true;
    }
}
