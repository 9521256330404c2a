using System.Globalization;

namespace PortHistory.Agent.Scanning;

/// <summary>What the agent could learn about a process holding a socket. Empty strings for what it could not read.</summary>
/// <param name="Program">What a runtime (java, python, node…) runs, by file or module name only (<see cref="ProgramNames"/>).</param>
/// <param name="SystemdUnit">The systemd service the process belongs to, from its cgroup.</param>
public sealed record ProcessInfo(
    int Pid, string Name, string Executable, string User, string NetworkNamespace, string ContainerId, string Program = "", string SystemdUnit = "");

/// <summary>
/// Socket inode → owning process, from the /proc/[pid]/fd/* links of the form "socket:[INODE]". Processes the agent
/// may not inspect (other users' when unprivileged) are skipped: their sockets simply have no owner.
/// </summary>
public sealed class SocketOwnerIndex
{
    private readonly Dictionary<ulong, ProcessInfo> _owners;

    private SocketOwnerIndex(Dictionary<ulong, ProcessInfo> owners, IReadOnlyList<ProcessInfo> processes, int hidden)
    {
        _owners = owners;
        Processes = processes;
        HiddenProcesses = hidden;
    }

    /// <summary>Every process found holding at least one socket.</summary>
    public IReadOnlyList<ProcessInfo> Processes { get; }

    /// <summary>Processes whose descriptors could not be read.</summary>
    public int HiddenProcesses { get; }

    public ProcessInfo? OwnerOf(ulong inode) => _owners.GetValueOrDefault(inode);

    public static SocketOwnerIndex Build(string procRoot, IReadOnlyDictionary<uint, string> userNames)
    {
        var holders = new Dictionary<ulong, List<int>>();
        var processes = new Dictionary<int, ProcessInfo>();
        var hidden = 0;
        foreach (var directory in Directory.EnumerateDirectories(procRoot))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            var inodes = SocketInodes(directory);
            if (inodes is null)
            {
                hidden++;
                continue;
            }

            if (inodes.Count == 0) continue;
            processes[pid] = Describe(directory, pid, userNames);
            foreach (var inode in inodes)
            {
                if (!holders.TryGetValue(inode, out var pids)) holders[inode] = pids = [];
                pids.Add(pid);
            }
        }

        var owners = holders.ToDictionary(h => h.Key, h => processes[ChooseOwner(h.Value)]);
        return new SocketOwnerIndex(owners, [.. processes.Values.OrderBy(p => p.Pid)], hidden);
    }

    /// <summary>
    /// One owner for a socket several processes hold (forked workers, inherited descriptors): the lowest pid, which is
    /// usually the parent that opened it, except that init yields to any other holder, since with socket activation
    /// systemd holds the socket on behalf of the service that really serves it.
    /// </summary>
    public static int ChooseOwner(IReadOnlyCollection<int> pids)
    {
        var others = pids.Where(p => p != 1).ToList();
        return others.Count > 0 ? others.Min() : pids.Min();
    }

    /// <summary>The socket inodes among a process's descriptors; null when they cannot be read.</summary>
    private static HashSet<ulong>? SocketInodes(string processDirectory)
    {
        var inodes = new HashSet<ulong>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd")))
            {
                if (ProcFs.SocketInode(ProcFs.TryReadLink(fd)) is { } inode) inodes.Add(inode);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's process (unprivileged agent), or the process has exited.
            return null;
        }

        return inodes;
    }

    private static ProcessInfo Describe(string directory, int pid, IReadOnlyDictionary<uint, string> userNames)
    {
        var name = ProcFs.TryReadText(Path.Combine(directory, "comm"))?.TrimEnd('\n') ?? "";
        var executable = ProcFs.TryReadLink(Path.Combine(directory, "exe")) ?? "";
        // A binary replaced by a package upgrade still runs under its old path.
        const string deleted = " (deleted)";
        if (executable.EndsWith(deleted, StringComparison.Ordinal)) executable = executable[..^deleted.Length];
        var uid = ProcFs.EffectiveUid(ProcFs.TryReadText(Path.Combine(directory, "status")));
        var user = uid is { } known ? userNames.NameOf(known) : "";
        var networkNamespace = ProcFs.TryReadLink(Path.Combine(directory, "ns", "net")) ?? "";
        var cgroup = ProcFs.TryReadText(Path.Combine(directory, "cgroup"));
        var program = ProgramNames.Of(name, executable, ProcFs.TryReadCommandLine(Path.Combine(directory, "cmdline")) ?? []);
        return new ProcessInfo(pid, name, executable, user, networkNamespace, CgroupPaths.ContainerIdOf(cgroup), program, CgroupPaths.SystemdUnitOf(cgroup));
    }
}
