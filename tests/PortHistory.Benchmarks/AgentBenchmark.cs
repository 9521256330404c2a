using System.Diagnostics;
using System.Globalization;
using System.Text;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// One agent scan of a synthetic procfs with 10,000 listening sockets held by 1,000 processes: wall time and peak
/// RSS of the framework-dependent agent, the native (NativeAOT) one, and optionally an earlier build's, next to the
/// floor of listing every descriptor link with find(1), in the same run. Needs GNU time (/usr/bin/time).
/// </summary>
internal static class AgentBenchmark
{
    private const int Processes = 1_000;
    private const int SocketsPerProcess = 10;
    private const int Runs = 5;

    /// <param name="previousAgent">An earlier build's porthistory-agent.dll, measured alike.</param>
    public static async Task RunAsync(TextWriter output, string? previousAgent)
    {
        var root = Directory.CreateTempSubdirectory("porthistory-agent-bench-").FullName;
        try
        {
            var proc = Path.Combine(root, "proc");
            Generate(proc);
            output.WriteLine($"agent scan: {Processes * SocketsPerProcess:N0} listening sockets, {Processes:N0} processes; median of {Runs} dry runs each");
            var native = await PublishNativeAsync(Path.Combine(root, "native"));
            var agentDll = ServerProcess.BuiltAssembly("PortHistory.Agent", "porthistory-agent.dll");
            var scan = $"--dry-run --once --host-ref bench --proc-root {proc}";
            var table = new Table("agent", "scan s", "peak RSS MiB", "on disk MiB", "vs find(1)", "lines out");
            var floor = Measure("find", $"{proc} -lname socket:*");
            table.Add("find -lname 'socket:*' (floor)", $"{floor.Seconds:0.00}", floor.PeakMiB, "", "1.0x", floor.Lines);
            void Add(string name, string file, string arguments, double diskMiB)
            {
                var m = Measure(file, arguments);
                table.Add(name, $"{m.Seconds:0.00}", m.PeakMiB, diskMiB, $"{m.Seconds / floor.Seconds:0.0}x", m.Lines);
            }

            Add("this build, native (NativeAOT)", native, scan, new FileInfo(native).Length / 1048576.0);
            Add("this build, on the .NET runtime", "dotnet", $"{agentDll} {scan}", FolderMiB(Path.GetDirectoryName(agentDll)!));
            if (previousAgent is not null) Add("earlier build, on the .NET runtime", "dotnet", $"{previousAgent} {scan}", FolderMiB(Path.GetDirectoryName(previousAgent)!));
            table.WriteTo(output);
            output.WriteLine("on disk: the native binary alone; the others their build folder, plus a .NET runtime on the host. lines out: what the dry run printed (one per socket, and headings).");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>net/tcp, tcp6 and udp tables with every socket, and pid directories whose fd links point at them.</summary>
    private static void Generate(string proc)
    {
        Directory.CreateDirectory(Path.Combine(proc, "net"));
        var self = Path.Combine(proc, "self");
        Directory.CreateDirectory(self);
        File.WriteAllText(Path.Combine(self, "status"), "Name:\tbench\nUid:\t0\t0\t0\t0\n");
        var tables = new Dictionary<string, StringBuilder>
        {
            ["tcp"] = new("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"),
            ["tcp6"] = new("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"),
            ["udp"] = new("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"),
        };
        string[] programs = ["java", "python3", "node", "dotnet", "nginx", "postgres", "sshd", "redis-server"];
        var inode = 100_000UL;
        for (var p = 0; p < Processes; p++)
        {
            var pid = (1000 + p).ToString(CultureInfo.InvariantCulture);
            var directory = Path.Combine(proc, pid);
            Directory.CreateDirectory(Path.Combine(directory, "fd"));
            var comm = programs[p % programs.Length];
            File.WriteAllText(Path.Combine(directory, "comm"), comm + "\n");
            File.WriteAllText(Path.Combine(directory, "status"), $"Name:\t{comm}\nUid:\t{p % 50}\t{p % 50}\t{p % 50}\t{p % 50}\n");
            File.WriteAllText(Path.Combine(directory, "cmdline"), $"/usr/bin/{comm}\0--serve\0/srv/app-{p}.conf\0");
            File.WriteAllText(Path.Combine(directory, "cgroup"), $"0::/system.slice/app-{p}.service\n");
            File.CreateSymbolicLink(Path.Combine(directory, "exe"), $"/usr/bin/{comm}");
            File.CreateSymbolicLink(Path.Combine(directory, "fd", "0"), "/dev/null");
            for (var s = 0; s < SocketsPerProcess; s++, inode++)
            {
                var port = (ushort)(1024 + (p * SocketsPerProcess + s) % 60000);
                File.CreateSymbolicLink(Path.Combine(directory, "fd", (3 + s).ToString(CultureInfo.InvariantCulture)), $"socket:[{inode}]");
                var (table, line) = s switch
                {
                    < 5 => ("tcp", $"{s,4}: 0100007F:{port:X4} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 {p % 50,5} 0 {inode} 1 0000000000000000 100 0 0 10 0\n"),
                    < 8 => ("tcp6", $"{s,4}: 00000000000000000000000000000000:{port:X4} 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 {p % 50,5} 0 {inode} 1 0000000000000000 100 0 0 10 0\n"),
                    _ => ("udp", $"{s,4}: 00000000:{port:X4} 00000000:0000 07 00000000:00000000 00:00000000 00000000 {p % 50,5} 0 {inode} 2 0000000000000000 0\n"),
                };
                tables[table].Append(line);
            }
        }

        foreach (var (name, text) in tables) File.WriteAllText(Path.Combine(proc, "net", name), text.ToString());
    }

    private static async Task<string> PublishNativeAsync(string output)
    {
        var start = new ProcessStartInfo("dotnet",
            $"publish {Path.Combine(RegistryData.RepositoryRoot, "src", "PortHistory.Agent")} -c Release -p:NativeAgent=true -r linux-x64 " +
            $"--artifacts-path {Path.Combine(output, "build")} -o {output} -nologo -v quiet")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var publish = Process.Start(start)!;
        var log = publish.StandardOutput.ReadToEndAsync();
        var errors = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0) throw new InvalidOperationException($"native publish failed:\n{await log}\n{await errors}");
        return Path.Combine(output, "porthistory-agent");
    }

    private readonly record struct Measurement(double Seconds, double PeakMiB, int Lines);

    /// <summary>Median wall time and peak RSS of <see cref="Runs"/> runs, as GNU time reports them.</summary>
    private static Measurement Measure(string file, string arguments)
    {
        var runs = new List<Measurement>();
        for (var i = 0; i < Runs; i++)
        {
            var start = new ProcessStartInfo("/usr/bin/time", $"-f \"%e %M\" {file} {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var run = Process.Start(start)!;
            var lines = Task.Run(() =>
            {
                var count = 0;
                while (run.StandardOutput.ReadLine() is not null) count++;
                return count;
            });
            var error = run.StandardError.ReadToEnd();
            run.WaitForExit();
            var last = error.TrimEnd().Split('\n')[^1].Split(' ');
            if (run.ExitCode != 0 || last.Length != 2) throw new InvalidOperationException($"{file} {arguments} failed ({run.ExitCode}):\n{error}");
            runs.Add(new Measurement(double.Parse(last[0], CultureInfo.InvariantCulture), long.Parse(last[1], CultureInfo.InvariantCulture) / 1024.0, lines.Result));
        }

        return new Measurement(runs.Select(r => r.Seconds).Order().ElementAt(Runs / 2), runs.Select(r => r.PeakMiB).Order().ElementAt(Runs / 2), runs[0].Lines);
    }

    private static double FolderMiB(string folder) => new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1048576.0;
}
