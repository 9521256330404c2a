using System.Globalization;
using System.Net;
using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Scanning;

/// <summary>One scan of the host.</summary>
/// <param name="Unowned">Sockets whose process could not be seen (normal for an unprivileged agent).</param>
public sealed record ScanResult(IReadOnlyList<Sighting> Sightings, bool Privileged, int Unowned, int HiddenProcesses);

/// <summary>Turns the host's listening and bound sockets, joined with the processes holding them, into sightings.</summary>
public sealed class SightingScanner(string procRoot = "/proc", string passwdPath = "/etc/passwd")
{
    private static readonly (string File, Transport Transport, AddressFamily Family)[] Tables =
    [
        ("tcp", Transport.Tcp, AddressFamily.Ipv4),
        ("tcp6", Transport.Tcp, AddressFamily.Ipv6),
        ("udp", Transport.Udp, AddressFamily.Ipv4),
        ("udp6", Transport.Udp, AddressFamily.Ipv6),
    ];

    /// <summary>CAP_SYS_PTRACE: what lets a process read other users' /proc/[pid]/fd.</summary>
    private const int CapSysPtrace = 19;

    /// <summary>
    /// Whether the agent can see every process's sockets: as root, or as the packaged service's own user, which holds
    /// CAP_SYS_PTRACE (and CAP_DAC_READ_SEARCH) and nothing else.
    /// </summary>
    public static bool IsPrivileged(string? selfStatus) =>
        ProcFs.EffectiveUid(selfStatus) == 0 || (ProcFs.EffectiveCapabilities(selfStatus) & (1UL << CapSysPtrace)) is > 0;

    public ScanResult Scan(string hostRef, DateTimeOffset observedAt)
    {
        var userNames = UserNames.Load(passwdPath);
        var owners = SocketOwnerIndex.Build(procRoot, userNames);
        var privileged = IsPrivileged(ProcFs.TryReadText(Path.Combine(procRoot, "self", "status")));
        var timestamp = Timestamp.FromDateTimeOffset(observedAt);

        var sightings = new List<Sighting>();
        var unowned = 0;
        foreach (var (socket, tableNamespace) in Sockets(owners))
        {
            // A socket whose process this agent cannot see says nothing of what runs there: counted, not reported.
            if (owners.OwnerOf(socket.Inode) is not { } owner)
            {
                unowned++;
                continue;
            }

            sightings.Add(new Sighting
            {
                HostRef = hostRef,
                ObservedAt = timestamp,
                Transport = socket.Transport,
                AddressFamily = socket.AddressFamily,
                LocalAddress = socket.Address.ToString(),
                BindScope = BindScopeOf(socket.Address),
                Port = (uint)socket.Port,
                State = socket.State,
                ProcessName = owner.Name,
                Executable = owner.Executable,
                Pid = (uint)owner.Pid,
                User = owner.User,
                AgentPrivileged = privileged,
                ContainerId = owner.ContainerId,
                NetworkNamespace = owner.NetworkNamespace is { Length: > 0 } ns ? ns : tableNamespace,
                Program = owner.Program,
                SystemdUnit = owner.SystemdUnit,
            });
        }

        // The server refuses a second sighting with the same identity in one batch (SO_REUSEPORT sockets of one process).
        var distinct = sightings
            .DistinctBy(s => (s.Transport, s.LocalAddress, s.Port, s.Pid, s.ProcessName, s.Executable))
            .OrderBy(s => s.Transport).ThenBy(s => s.Port).ThenBy(s => s.AddressFamily).ThenBy(s => s.LocalAddress, StringComparer.Ordinal)
            .ThenBy(s => s.Pid)
            .ToList();
        return new ScanResult(distinct, privileged, unowned, owners.HiddenProcesses);
    }

    /// <summary>
    /// The agent's own network namespace (/proc/net), then one process's view of every other namespace found: sockets
    /// of containers with their own network never show up in /proc/net. Socket inodes are unique host-wide, so a socket
    /// read twice is counted once.
    /// </summary>
    private IEnumerable<(SocketEntry Socket, string Namespace)> Sockets(SocketOwnerIndex owners)
    {
        var ownNamespace = ProcFs.TryReadLink(Path.Combine(procRoot, "self", "ns", "net")) ?? "";
        var views = new List<(string Directory, string Namespace)> { (Path.Combine(procRoot, "net"), ownNamespace) };
        views.AddRange(owners.Processes
            .Where(p => p.NetworkNamespace.Length > 0 && p.NetworkNamespace != ownNamespace)
            .DistinctBy(p => p.NetworkNamespace)
            .Select(p => (Path.Combine(procRoot, p.Pid.ToString(CultureInfo.InvariantCulture), "net"), p.NetworkNamespace)));

        var seen = new HashSet<(Transport, IPAddress, int, ulong)>();
        foreach (var (directory, ns) in views)
        {
            foreach (var (file, transport, family) in Tables)
            {
                // A missing table is normal: IPv6 disabled, or the process exited.
                if (ProcFs.TryReadText(Path.Combine(directory, file)) is not { } text) continue;
                foreach (var socket in ProcNetTable.Parse(text, transport, family))
                {
                    if (seen.Add((socket.Transport, socket.Address, socket.Port, socket.Inode))) yield return (socket, ns);
                }
            }
        }
    }

    /// <summary>Wildcard, loopback or one address; an IPv4-mapped IPv6 address counts as its IPv4 address.</summary>
    public static BindScope BindScopeOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return BindScope.Wildcard;
        return IPAddress.IsLoopback(address) ? BindScope.Loopback : BindScope.Specific;
    }
}
