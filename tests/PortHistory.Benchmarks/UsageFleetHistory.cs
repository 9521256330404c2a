using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>One process on a port and transport, listening on some hosts every day from <see cref="First"/> on.</summary>
internal sealed record UsageSeriesLevels(int Port, Transport Transport, string ProcessName, string Executable, DateOnly First, int[] Hosts, int[] Reachable)
{
    public int Days => Hosts.Length;
}

/// <summary>A slot of the fleet: a port and transport on which one process (its version changing now and then) listens.</summary>
internal sealed record UsageSlot(int Id, int Port, Transport Transport, string Name, int BaseHosts, int FirstDay, int LastDay, Reach Reach);

internal enum Reach { LoopbackOnly, Everywhere, Half }

/// <summary>
/// A synthetic fleet's daily listener levels: slots of Zipf-distributed size (the largest on every host, most on a few),
/// each one process at a time. Most days a large slot gains or loses a few hosts; a small one stays as it is for weeks.
/// Now and then a slot's process is replaced by a new version (another executable, another process), on one day.
/// Also counts the listener changes (one per host that starts or stops) the levels imply.
/// </summary>
internal static class UsageFleetHistory
{
    public const int Hosts = 10_000;

    private static readonly string[] Names =
    [
        "sshd", "chronyd", "systemd-resolved", "node_exporter", "rpcbind", "cupsd", "master", "containerd", "dockerd", "kubelet",
        "java", "python3", "node", "postgres", "mysqld", "redis-server", "memcached", "nginx", "envoy", "haproxy",
        "dnsmasq", "avahi-daemon", "snmpd", "ntpd", "rsyslogd", "zabbix_agentd", "filebeat", "consul", "vault", "etcd",
    ];

    /// <summary>The fleet's slots: as many as distinct (port, transport, process) listened each day, none on <paramref name="reservedPort"/>.</summary>
    public static List<UsageSlot> FleetSlots(int count, int days, int reservedPort)
    {
        var slots = new List<UsageSlot>(count);
        for (var i = 0; i < count; i++)
        {
            // Distinct ports from 1024 up (7,919 is prime, so the multiples never repeat below 60,000 slots); the largest few on low ports.
            var port = i < 20 ? 22 + i * 3 : 1024 + (int)((long)i * 7919 % 60_000);
            if (port == reservedPort) port = 60_001;
            var baseHosts = Math.Clamp((int)Math.Round(Hosts * Math.Pow(i + 1, -0.75)), 1, Hosts);
            slots.Add(new UsageSlot(i, port, i % 5 == 4 ? Transport.Udp : Transport.Tcp, Names[i % Names.Length], baseHosts, 0, days - 1, (Reach)(i % 3)));
        }

        return slots;
    }

    /// <summary>Processes on one busy port over the whole history, starting and ending at different times.</summary>
    public static List<UsageSlot> PortSlots(int port, int count, int days, int firstId)
    {
        var slots = new List<UsageSlot>(count);
        for (var i = 0; i < count; i++)
        {
            var first = i * days / (count + 2);
            var last = i % 3 == 2 ? Math.Min(days - 1, first + days / 3) : days - 1;
            slots.Add(new UsageSlot(firstId + i, port, Transport.Tcp, Names[(17 + i) % Names.Length], Math.Max(3, 4000 >> (i / 2)), first, last, Reach.Everywhere));
        }

        return slots;
    }

    /// <summary>The levels of <paramref name="slots"/> from <paramref name="firstDay"/>, and the listener changes per day (the first day's not counted).</summary>
    public static (List<UsageSeriesLevels> Series, long[] Changes) Levels(IEnumerable<UsageSlot> slots, DateOnly firstDay, int days)
    {
        var series = new List<UsageSeriesLevels>();
        var changes = new long[days];
        foreach (var slot in slots)
        {
            var random = new Random(slot.Id * 7_919 + 17);
            var churn = Math.Min(0.95, 0.03 + slot.BaseHosts / 500.0);
            var version = 1;
            var hosts = slot.BaseHosts;
            var start = slot.FirstDay;
            var levels = new List<int>();
            for (var day = slot.FirstDay; day <= slot.LastDay; day++)
            {
                var before = hosts;
                if (day > slot.FirstDay && random.NextDouble() < 1.0 / 700)
                {
                    // A new version replaces the old on every host in one day: all its hosts stop, as many start the new one.
                    series.Add(Finish(slot, version, firstDay, start, levels));
                    changes[day] += 2L * hosts;
                    version++;
                    start = day;
                    levels = [];
                }
                else if (random.NextDouble() < churn)
                {
                    var step = 1 + random.Next(Math.Max(1, slot.BaseHosts / 100));
                    var down = random.NextDouble() < 0.5 + 0.4 * Math.Tanh((hosts - slot.BaseHosts) / (0.05 * slot.BaseHosts + 2));
                    hosts = Math.Clamp(hosts + (down ? -step : step), 1, Hosts);
                    if (day > slot.FirstDay) changes[day] += Math.Abs(hosts - before);
                }

                levels.Add(hosts);
            }

            series.Add(Finish(slot, version, firstDay, start, levels));
        }

        return (series, changes);
    }

    private static UsageSeriesLevels Finish(UsageSlot slot, int version, DateOnly firstDay, int start, List<int> levels)
    {
        var hosts = levels.ToArray();
        var reachable = slot.Reach switch
        {
            Reach.LoopbackOnly => new int[hosts.Length],
            Reach.Everywhere => hosts,
            _ => [.. hosts.Select(h => h / 2)],
        };
        return new UsageSeriesLevels(slot.Port, slot.Transport, slot.Name, $"/opt/{slot.Name}/{slot.Id}/{version}/bin/{slot.Name}", firstDay.AddDays(start), hosts, reachable);
    }
}
