using System.Net;
using System.Net.Sockets;

namespace PortHistory.Testing;

/// <summary>
/// Ports for the servers tests start, which bind them a moment after they are handed out. Not from the kernel's
/// ephemeral range (a port free there when handed out can be taken as the source port of any outgoing connection, by
/// any process, before the server binds it: a server once failed to start with "Address already in use"), and each
/// reserved across the test processes running side by side by a lock on a file of its own, held for this process's
/// life. A port something already listens on is skipped.
/// </summary>
public static class TestPorts
{
    private static readonly string Directory = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "porthistory-test-ports")).FullName;
    private static readonly List<FileStream> Reserved = [];
    private static readonly (int First, int End) Range = BelowEphemeral();
    private static int _cursor = Random.Shared.Next(Range.End - Range.First);

    public static int Next()
    {
        lock (Reserved)
        {
            for (var tried = 0; tried < Range.End - Range.First; tried++)
            {
                var port = Range.First + _cursor++ % (Range.End - Range.First);
                if (TryReserve(port) is not { } reservation) continue;
                if (!NothingListens(port))
                {
                    reservation.Dispose();
                    continue;
                }

                Reserved.Add(reservation);
                return port;
            }
        }

        throw new InvalidOperationException($"no free port in {Range.First}-{Range.End - 1}");
    }

    // FileShare.None is an exclusive advisory lock on Unix: another test process cannot hold the same port's file.
    private static FileStream? TryReserve(int port)
    {
        try
        {
            return new FileStream(Path.Combine(Directory, $"{port}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool NothingListens(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>10000 up to the first port the kernel hands out for outgoing connections (32768 by default).</summary>
    private static (int First, int End) BelowEphemeral()
    {
        const string Setting = "/proc/sys/net/ipv4/ip_local_port_range";
        var low = File.Exists(Setting) && int.TryParse(File.ReadAllText(Setting).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], out var first)
            ? first
            : 32768;
        return low > 12000 ? (10000, low) : (1024, low);
    }
}
