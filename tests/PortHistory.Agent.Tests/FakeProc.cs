namespace PortHistory.Agent.Tests;

/// <summary>A throwaway procfs look-alike in a temp directory: net tables, and pid directories with fd symlinks.</summary>
public sealed class FakeProc : IDisposable
{
    public FakeProc()
    {
        Root = Directory.CreateTempSubdirectory("porthistory-agent-proc-").FullName;
        Passwd = Path.Combine(Root, "passwd");
    }

    public string Root { get; }

    /// <summary>An /etc/passwd for the scan, kept outside the pid directories.</summary>
    public string Passwd { get; }

    public FakeProc WithPasswd(string text)
    {
        File.WriteAllText(Passwd, text);
        return this;
    }

    /// <summary>Writes net/&lt;table&gt; (the agent's own namespace), or &lt;pid&gt;/net/&lt;table&gt; with a pid.</summary>
    public FakeProc WithTable(string table, string text, int? pid = null)
    {
        var directory = pid is null ? Path.Combine(Root, "net") : Path.Combine(Root, Pid(pid.Value), "net");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, table), text);
        return this;
    }

    public FakeProc WithSelf(uint effectiveUid, string? networkNamespace = null, ulong effectiveCapabilities = 0)
    {
        var self = Path.Combine(Root, "self");
        Directory.CreateDirectory(self);
        File.WriteAllText(Path.Combine(self, "status"),
            $"Name:\ttesthost\nUid:\t{effectiveUid}\t{effectiveUid}\t{effectiveUid}\t{effectiveUid}\nCapEff:\t{effectiveCapabilities:x16}\n");
        if (networkNamespace is not null) Link(self, "ns/net", networkNamespace);
        return this;
    }

    /// <summary>
    /// A process holding the given socket inodes (and a non-socket descriptor, as real ones do); its cmdline, when given,
    /// as the kernel writes it: each argument ended by a NUL.
    /// </summary>
    public FakeProc WithProcess(
        int pid, string comm, uint uid, ulong[] socketInodes, string? executable = null, string? networkNamespace = null, string? cgroup = null,
        string[]? cmdline = null)
    {
        var directory = Path.Combine(Root, Pid(pid));
        Directory.CreateDirectory(Path.Combine(directory, "fd"));
        File.WriteAllText(Path.Combine(directory, "comm"), comm + "\n");
        // Real uid differs from the effective one on purpose: the agent reports the effective user.
        File.WriteAllText(Path.Combine(directory, "status"), $"Name:\t{comm}\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t65534\t{uid}\t{uid}\t{uid}\nGid:\t0\t0\t0\t0\n");
        Link(directory, "fd/0", "/dev/null");
        for (var i = 0; i < socketInodes.Length; i++) Link(directory, $"fd/{i + 3}", $"socket:[{socketInodes[i]}]");
        if (executable is not null) Link(directory, "exe", executable);
        if (networkNamespace is not null) Link(directory, "ns/net", networkNamespace);
        if (cgroup is not null) File.WriteAllText(Path.Combine(directory, "cgroup"), cgroup);
        if (cmdline is not null) File.WriteAllText(Path.Combine(directory, "cmdline"), string.Concat(cmdline.Select(a => a + "\0")));
        return this;
    }

    /// <summary>A pid directory whose descriptors cannot be listed, like another user's process seen unprivileged.</summary>
    public FakeProc WithHiddenProcess(int pid)
    {
        Directory.CreateDirectory(Path.Combine(Root, Pid(pid)));
        File.WriteAllText(Path.Combine(Root, Pid(pid), "comm"), "secret\n");
        return this;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static string Pid(int pid) => pid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Link(string directory, string name, string target)
    {
        var path = Path.Combine(directory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
    }
}
