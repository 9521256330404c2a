using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>
/// A small catalog of sockets as agents name them, shared by the host tests: a set is a bit mask over it, so random
/// sets overlap. Process ids are given out of name order, so the grain's order (by id) differs from the agent's.
/// </summary>
internal static class HostCatalog
{
    public static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    public static readonly HostSocket[] Sockets =
    [
        Socket(Transport.Tcp, 22, BindScope.Wildcard, "", "sshd"),
        Socket(Transport.Tcp, 80, BindScope.Wildcard, "", "nginx"),
        Socket(Transport.Tcp, 80, BindScope.Loopback, "", "nginx"),
        Socket(Transport.Tcp, 80, BindScope.Specific, "10.0.0.5", "apache2"),
        Socket(Transport.Udp, 53, BindScope.Loopback, "", "dnsmasq"),
        Socket(Transport.Udp, 53, BindScope.Specific, "192.168.1.1", "dnsmasq"),
        Socket(Transport.Tcp, 5432, BindScope.Loopback, "", "postgres"),
        Socket(Transport.Udp, 80, BindScope.Wildcard, "", "nginx"),
    ];

    public const int AllMask = (1 << 8) - 1;

    private static readonly Dictionary<string, int> ProcessIds = new(StringComparer.Ordinal)
    {
        ["nginx"] = 5, ["apache2"] = 2, ["sshd"] = 3, ["dnsmasq"] = 1, ["postgres"] = 4,
    };

    public static HostSocket Socket(Transport transport, uint port, BindScope scope, string address, string process) => new()
    {
        Transport = transport, Port = port, BindScope = scope, BoundAddress = address, ProcessName = process, Executable = $"/usr/sbin/{process}",
    };

    public static HostSocket[] Set(int mask) => [.. Sockets.Where((_, i) => (mask & (1 << i)) != 0)];

    /// <summary>The sockets as a host grain holds them (sorted, each since <paramref name="since"/>).</summary>
    public static HostSocketEntry[] Entries(IEnumerable<HostSocket> sockets, DateTime since) =>
        HostSocketSet.Normalize(sockets.Select(s => Entry(s, since)));

    public static HostSocketEntry Entry(HostSocket s, DateTime since) =>
        new((int)s.Port, s.Transport, ProcessIds[s.ProcessName], s.BindScope, s.BindScope == BindScope.Specific ? s.BoundAddress : "", since);

    /// <summary>The identities of a set, since-times left out, for comparing sets.</summary>
    public static HostSocketEntry[] Identities(IEnumerable<HostSocketEntry> sockets) => [.. sockets.Select(s => s with { Since = default })];

    public static HostReportInput Snapshot(ulong epoch, DateTime started, ulong seq, HostSocket[] set, DateTime at) =>
        Input(HostReportKind.Snapshot, epoch, started, seq, SocketSetHash.Of(set), SocketSetHash.Empty, Entries(set, at), [], at);

    /// <summary>The change from <paramref name="before"/> to <paramref name="after"/>, as an agent reports it.</summary>
    public static HostReportInput Changes(ulong epoch, DateTime started, ulong seq, HostSocket[] before, HostSocket[] after, DateTime at)
    {
        HostSocket[] added = [.. after.Except(before)], removed = [.. before.Except(after)];
        return Changes(epoch, started, seq, added, removed, SocketSetHash.Of(after), at);
    }

    public static HostReportInput Changes(ulong epoch, DateTime started, ulong seq, HostSocket[] added, HostSocket[] removed, SocketSetHash setHash, DateTime at)
    {
        var toggled = SocketSetHash.Empty;
        foreach (var socket in added.Concat(removed)) toggled ^= SocketSetHash.Member(socket);
        return Input(HostReportKind.Changes, epoch, started, seq, setHash, toggled, [.. added.Select(s => Entry(s, at))], [.. removed.Select(s => Entry(s, at))], at);
    }

    public static HostReportInput Heartbeat(ulong epoch, DateTime started, ulong seq, HostSocket[] set, DateTime at) =>
        Input(HostReportKind.Heartbeat, epoch, started, seq, SocketSetHash.Of(set), SocketSetHash.Empty, [], [], at);

    private static HostReportInput Input(HostReportKind kind, ulong epoch, DateTime started, ulong seq, SocketSetHash setHash, SocketSetHash toggled,
        HostSocketEntry[] added, HostSocketEntry[] removed, DateTime at) =>
        new(kind, epoch, started, seq, setHash, toggled, added, removed, at, at, "", "2.0.0", true, 0, 0);
}

/// <summary>What a host grain holds as reports are decided: the rules, and on Apply the state the grain keeps.</summary>
internal sealed class HeldHost
{
    public HostRecord Held { get; private set; } = HostRecord.New("host-1", HostCatalog.At);

    public HostDecision Report(HostReportInput input)
    {
        var decision = HostReportRules.Decide(Held, input);
        if (decision is HostDecision.Apply apply)
        {
            Held = Held with
            {
                EpochId = input.EpochId, EpochStartedAt = input.EpochStartedAt, Seq = input.Seq, SetHash = input.SetHash,
                Sockets = HostSocketSet.KeepSince(Held.Sockets, apply.Sockets),
            };
        }

        return decision;
    }
}
