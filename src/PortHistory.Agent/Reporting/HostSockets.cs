using System.Net;
using PortHistory.Agent.Scanning;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Reporting;

/// <summary>What changed between two socket sets: sockets added and removed, each in a stable order.</summary>
public sealed record SocketSetChange(IReadOnlyList<HostSocket> Added, IReadOnlyList<HostSocket> Removed)
{
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0;
}

/// <summary>
/// A scan's sightings as differential reporting identifies them (<see cref="HostSocket"/>): what listens where, not which
/// process instance, so that a daemon restarted with the same binary on the same address is no change. The wildcard
/// and loopback addresses of both families are one socket each (a daemon on 0.0.0.0 and :: listens once), and an
/// IPv4-mapped IPv6 address is its IPv4 address.
/// </summary>
public static class HostSockets
{
    /// <summary>
    /// The set of a scan's sightings; sightings that differ only in pid, inode, user or times collapse. A socket the
    /// server would refuse (<see cref="HostSocketRules"/>: a name with a control character, say) is left out: one such
    /// socket must not stop the host's reporting.
    /// </summary>
    public static HashSet<HostSocket> Of(IEnumerable<Sighting> sightings) => [.. sightings.Select(Of).Where(s => HostSocketRules.Check(s) is null)];

    public static HostSocket Of(Sighting sighting)
    {
        var address = IPAddress.TryParse(sighting.LocalAddress, out var parsed) ? parsed : null;
        if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();
        var scope = sighting.BindScope != BindScope.Unspecified || address is null ? sighting.BindScope : SightingScanner.BindScopeOf(address);
        return new HostSocket
        {
            Transport = sighting.Transport,
            Port = sighting.Port,
            BindScope = scope,
            BoundAddress = scope == BindScope.Specific ? address?.ToString() ?? sighting.LocalAddress : "",
            ProcessName = sighting.ProcessName,
            Executable = sighting.Executable,
            Program = sighting.Program,
            SystemdUnit = sighting.SystemdUnit,
        };
    }

    /// <summary>What turns <paramref name="before"/> into <paramref name="after"/>.</summary>
    public static SocketSetChange Diff(IReadOnlySet<HostSocket> before, IReadOnlySet<HostSocket> after) =>
        new(Ordered(after.Where(socket => !before.Contains(socket))), Ordered(before.Where(socket => !after.Contains(socket))));

    /// <summary><paramref name="set"/> with the change applied; a change that does not fit (removing what is absent) is applied as far as it goes.</summary>
    public static HashSet<HostSocket> Apply(IEnumerable<HostSocket> set, HostChanges changes)
    {
        var result = new HashSet<HostSocket>(set);
        result.ExceptWith(changes.Removed);
        result.UnionWith(changes.Added);
        return result;
    }

    /// <summary>Sockets by port, transport, scope and address, then process: how they are listed in reports and logs.</summary>
    public static List<HostSocket> Ordered(IEnumerable<HostSocket> sockets) =>
    [
        .. sockets.OrderBy(s => s.Port).ThenBy(s => s.Transport).ThenBy(s => s.BindScope).ThenBy(s => s.BoundAddress, StringComparer.Ordinal)
            .ThenBy(s => s.ProcessName, StringComparer.Ordinal).ThenBy(s => s.Executable, StringComparer.Ordinal)
            .ThenBy(s => s.Program, StringComparer.Ordinal).ThenBy(s => s.SystemdUnit, StringComparer.Ordinal),
    ];
}
