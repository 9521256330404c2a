using System.Diagnostics;

namespace PortHistory.Agent.Tests;

/// <summary>
/// deploy/agent/build-deb.sh end to end: the native publish, the .deb's metadata and files, an install into a throwaway
/// root (maintainer scripts included), the installed binary and settings file, the installed unit, and a purge.
/// Slow (the AOT publish: about a minute on two cores), so one test does it all.
/// </summary>
[Trait("Category", "Slow")]
public sealed class AgentPackageTests : IDisposable
{
    private const string Version = "1.2.3~test";
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-deb-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task The_deb_installs_a_native_agent_its_settings_and_a_unit_systemd_accepts()
    {
        var repository = RepositoryRoot();
        var built = await Run("bash", [Path.Combine(repository, "deploy", "agent", "build-deb.sh"), Version, Path.Combine(_directory, "out")],
            TimeSpan.FromMinutes(15));
        var deb = built.Output.Trim().Split('\n')[^1];
        Assert.Equal(Path.Combine(_directory, "out", $"porthistory-agent_{Version}_amd64.deb"), deb);

        var info = (await Run("dpkg-deb", ["--info", deb])).Output;
        Assert.Contains("Package: porthistory-agent\n", info, StringComparison.Ordinal);
        Assert.Contains($"Version: {Version}\n", info, StringComparison.Ordinal);
        Assert.Contains("Architecture: amd64\n", info, StringComparison.Ordinal);
        Assert.Equal("/etc/porthistory/agent.conf", (await Run("dpkg-deb", ["--info", deb, "conffiles"])).Output.Trim());

        var contents = (await Run("dpkg-deb", ["--contents", deb])).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => fields[^1], fields => (Mode: fields[0], Owner: fields[1]));
        Assert.Equal(("-rwxr-xr-x", "root/root"), contents["./usr/bin/porthistory-agent"]);
        Assert.Equal(("-rw-r--r--", "root/root"), contents["./lib/systemd/system/porthistory-agent.service"]);
        Assert.Equal(("-rw-r--r--", "root/root"), contents["./etc/porthistory/agent.conf"]);

        // dpkg into an empty root: scripts run outside it with $DPKG_ROOT set, and must touch only that root.
        var root = Path.Combine(_directory, "root");
        foreach (var directory in new[] { "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log" }) Directory.CreateDirectory(Path.Combine(root, directory));
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/available"), "");
        string[] dpkg = [$"--root={root}", "--force-script-chrootless", "--force-not-root", "--force-depends", $"--log={Path.Combine(root, "var/log/dpkg.log")}"];
        await Run("dpkg", [.. dpkg, "--install", deb]);
        var enabled = Path.Combine(root, "etc/systemd/system/multi-user.target.wants/porthistory-agent.service");
        Assert.Equal("/lib/systemd/system/porthistory-agent.service", new FileInfo(enabled).LinkTarget);

        // The installed binary runs without a .NET runtime, and the installed settings file is valid as shipped.
        var agent = Path.Combine(root, "usr/bin/porthistory-agent");
        Assert.Equal(Version, (await Run(agent, ["--version"])).Output.Trim());
        using var proc = new FakeProc()
            .WithSelf(effectiveUid: 0)
            .WithTable("tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                + "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n")
            .WithProcess(77, "sshd", 0, [31337], executable: "/usr/sbin/sshd");
        var dryRun = await Run(agent, ["--config", Path.Combine(root, "etc/porthistory/agent.conf"), "--dry-run", "--proc-root", proc.Root, "--host-ref", "packaged"]);
        Assert.StartsWith("host_ref packaged, 1 sightings, agent privileged", dryRun.Output, StringComparison.Ordinal);
        Assert.Contains("/usr/sbin/sshd", dryRun.Output, StringComparison.Ordinal);

        // systemd-analyze verify needs ExecStart's binary to exist: a copy of the unit that runs the one in the temp root.
        var unit = await File.ReadAllTextAsync(Path.Combine(root, "lib/systemd/system/porthistory-agent.service"));
        Assert.Contains("\nExecStart=/usr/bin/porthistory-agent --config /etc/porthistory/agent.conf\n", unit, StringComparison.Ordinal);
        // It only reads /proc.
        Assert.Contains("\nReadOnlyPaths=/proc\n", unit, StringComparison.Ordinal);
        var verifyCopy = Path.Combine(_directory, "verify", "porthistory-agent.service");
        Directory.CreateDirectory(Path.GetDirectoryName(verifyCopy)!);
        await File.WriteAllTextAsync(verifyCopy, unit.Replace("ExecStart=/usr/bin/", $"ExecStart={root}/usr/bin/", StringComparison.Ordinal));
        var verified = await Run("systemd-analyze", ["verify", verifyCopy]);
        // Unknown or misspelt settings are only warnings for systemd: any output is a failure here.
        Assert.Equal("", verified.Error.Trim());

        await Run("dpkg", [.. dpkg, "--purge", "porthistory-agent"]);
        Assert.False(File.Exists(agent));
        Assert.False(File.Exists(Path.Combine(root, "etc/porthistory/agent.conf")));
        Assert.False(Path.Exists(enabled));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PortHistory.sln"))) return directory.FullName;
        }

        throw new InvalidOperationException($"no PortHistory.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a program to completion; a non-zero exit fails the test with its output.</summary>
    private static async Task<(string Output, string Error)> Run(string file, string[] arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The build must publish from the sources, not package a binary named by the caller's environment.
        start.Environment.Remove("PORTHISTORY_AGENT_BINARY");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in {timeout}: {await error}");
        }

        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await error}");
        return (await output, await error);
    }
}
