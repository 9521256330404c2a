using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>
/// The listening sockets a simulated fleet draws from, most common first, with a Zipf-distributed popularity: a few
/// (sshd on 22, the resolver, chrony) are on nearly every host, and a long tail of services on few hosts each.
/// </summary>
internal sealed class FleetCatalog
{
    private static readonly (uint Port, Transport Transport, string Process, string Executable, BindScope Scope)[] Common =
    [
        (22, Transport.Tcp, "sshd", "/usr/sbin/sshd", BindScope.Wildcard),
        (53, Transport.Udp, "systemd-resolve", "/usr/lib/systemd/systemd-resolved", BindScope.Loopback),
        (323, Transport.Udp, "chronyd", "/usr/sbin/chronyd", BindScope.Loopback),
        (9100, Transport.Tcp, "node_exporter", "/usr/local/bin/node_exporter", BindScope.Wildcard),
        (25, Transport.Tcp, "master", "/usr/lib/postfix/sbin/master", BindScope.Loopback),
        (111, Transport.Tcp, "rpcbind", "/usr/sbin/rpcbind", BindScope.Wildcard),
        (111, Transport.Udp, "rpcbind", "/usr/sbin/rpcbind", BindScope.Wildcard),
        (631, Transport.Tcp, "cupsd", "/usr/sbin/cupsd", BindScope.Loopback),
        (443, Transport.Tcp, "nginx", "/usr/sbin/nginx", BindScope.Wildcard),
        (80, Transport.Tcp, "nginx", "/usr/sbin/nginx", BindScope.Wildcard),
        (5432, Transport.Tcp, "postgres", "/usr/lib/postgresql/15/bin/postgres", BindScope.Loopback),
        (6379, Transport.Tcp, "redis-server", "/usr/bin/redis-server", BindScope.Loopback),
    ];

    private readonly HostSocket[] _sockets;
    private readonly SocketSetHash[] _members;
    private readonly double[] _cumulative;

    public FleetCatalog(int size, double exponent, int seed)
    {
        var random = new Random(seed);
        _sockets = new HostSocket[size];
        for (var k = 0; k < size; k++)
        {
            if (k < Common.Length)
            {
                var (port, transport, process, executable, scope) = Common[k];
                _sockets[k] = new HostSocket { Port = port, Transport = transport, ProcessName = process, Executable = executable, BindScope = scope };
                continue;
            }

            // The tail: a service of its own name on a port of its own draw, so that no two entries are the same socket.
            var roll = random.Next(10);
            var tail = new HostSocket
            {
                Port = (uint)(random.Next(4) == 0 ? random.Next(1, 1024) : random.Next(1024, 65536)),
                Transport = random.Next(5) == 0 ? Transport.Udp : Transport.Tcp,
                ProcessName = $"svc{k}",
                Executable = $"/opt/svc{k}/bin/svc{k}",
                BindScope = roll < 6 ? BindScope.Wildcard : roll < 9 ? BindScope.Loopback : BindScope.Specific,
            };
            if (tail.BindScope == BindScope.Specific) tail.BoundAddress = $"10.{k / 250 % 256}.{k % 250 + 1}.7";
            _sockets[k] = tail;
        }

        _members = [.. _sockets.Select(SocketSetHash.Member)];
        _cumulative = new double[size];
        double sum = 0;
        for (var k = 0; k < size; k++) _cumulative[k] = sum += 1 / Math.Pow(k + 1, exponent);
        for (var k = 0; k < size; k++) _cumulative[k] /= sum;
    }

    public int Count => _sockets.Length;

    public HostSocket this[int kind] => _sockets[kind];

    /// <summary>The member digest of an entry, computed once.</summary>
    public SocketSetHash Member(int kind) => _members[kind];

    /// <summary>An entry by popularity.</summary>
    public int Draw(Random random)
    {
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _sockets.Length - 1);
    }

    /// <summary>A host's set: <paramref name="size"/> distinct entries drawn by popularity.</summary>
    public HashSet<int> DrawSet(Random random, int size)
    {
        var set = new HashSet<int>();
        for (var attempt = 0; set.Count < size && attempt < size * 50; attempt++) set.Add(Draw(random));
        return set;
    }

    /// <summary>The sighting a full-reporting agent would send for an entry (the baseline).</summary>
    public Sighting Sighting(string host, int kind, DateTime observedAt)
    {
        var s = _sockets[kind];
        var address = s.BindScope switch { BindScope.Wildcard => "0.0.0.0", BindScope.Loopback => "127.0.0.1", _ => s.BoundAddress };
        var sighting = PortHistory.Testing.FleetSimulator.Sighting(host, s.Port, s.Transport, s.ProcessName, s.Executable, address, observedAt);
        sighting.BindScope = s.BindScope;
        return sighting;
    }
}
