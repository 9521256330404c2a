// Over 250 lines: one fixture: the shared data directory as the earlier script left it, its ports, and the recording dotnet.
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class LocalRunnerTests
{
    /// <summary>
    /// The shared data directory, ports of its own, and a dotnet on the PATH that records the command line of every
    /// dotnet process the script starts (read from /proc, as ps shows it) before running the real one.
    /// </summary>
    public sealed class Workspace : IAsyncLifetime
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("porthistory-runner-").FullName;

        public string Data => Path.Combine(Root, "data");

        public string RunLog => Path.Combine(Data, "run-local.log");

        public string CommandLog => Path.Combine(Root, "commands.log");

        private string Shims => Path.Combine(Root, "bin");

        public int PgPort { get; } = PostgresServer.FreePort();

        private readonly int _grpcPort = PostgresServer.FreePort();
        private readonly int _httpPort = PostgresServer.FreePort();
        private readonly int _metricsPort = PostgresServer.FreePort();
        private readonly int _siloPort = PostgresServer.FreePort();
        private readonly int _gatewayPort = PostgresServer.FreePort();

        public static bool IsRoot => Environment.UserName == "root";

        public string SocketConnectionString(string user) =>
            $"Host={Data}/run;Port={PgPort};Database=porthistory;Username={user};Pooling=false;Timeout=5";

        public async Task InitializeAsync()
        {
            // PostgreSQL runs as the postgres user when the tests run as root: it must enter the directory.
            File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
            Directory.CreateDirectory(Data);
            Directory.CreateDirectory(Shims);
            var dotnet = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Select(d => Path.Combine(d, "dotnet")).FirstOrDefault(File.Exists) ?? throw new InvalidOperationException("dotnet is not on the PATH");
            var shim = Path.Combine(Shims, "dotnet");
            await File.WriteAllTextAsync(shim, $"#!/bin/sh\n{{ tr '\\0' ' ' </proc/$$/cmdline; echo; }} >>'{CommandLog}'\nexec '{dotnet}' \"$@\"\n");
            File.SetUnixFileMode(shim, (UnixFileMode)0b111_101_101);
            await LeaveAnEarlierVersionsClusterAsync();
        }

        /// <summary>
        /// What the script made before peer authentication, and left running when its terminal was closed: a cluster
        /// created with --auth=trust, listening on 127.0.0.1, where the server ran as the superuser.
        /// </summary>
        private async Task LeaveAnEarlierVersionsClusterAsync()
        {
            var pgdata = Path.Combine(Data, "postgres");
            var socket = Path.Combine(Data, "run");
            var log = Path.Combine(Data, "postgres.log");
            Directory.CreateDirectory(pgdata);
            Directory.CreateDirectory(socket);
            await File.WriteAllTextAsync(log, "");
            if (IsRoot) await RunAsync("chown", "postgres:postgres", pgdata, socket, log);
            File.SetUnixFileMode(pgdata, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).First();
            await PostgresAsync(Path.Combine(bin, "initdb"), "-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
            await PostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", pgdata, "-l", log, "-w", "-o",
                $"-p {PgPort} -c listen_addresses=127.0.0.1 -k {socket}", "start");
            var tcp = $"Host=127.0.0.1;Port={PgPort};Username=postgres;Pooling=false;Timeout=5";
            await ExecuteAsync(tcp + ";Database=postgres", "CREATE DATABASE porthistory");
            // As the server made it (SchemaMigrator), owned by the superuser: the server's own role must be able to use it.
            await ExecuteAsync(tcp + ";Database=porthistory",
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
        }

        /// <summary>Starts run-local.sh in a pseudo-terminal and waits until it says the server is running.</summary>
        public async Task<Run> StartAsync(params string[] options)
        {
            var script = Path.Combine(RegistryData.RepositoryRoot, "deploy", "run-local.sh");
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                ? "Release"
                : "Debug";
            var arguments = new[]
            {
                "--data", Data, "--no-build", "--configuration", configuration, "--port", Text(_grpcPort), "--http-port", Text(_httpPort),
                "--pg-port", Text(PgPort),
            }.Concat(options.Length == 0 ? ["--no-import"] : options);
            var command = "exec " + string.Join(' ', new[] { script }.Concat(arguments).Select(a => $"'{a}'"));
            var start = new ProcessStartInfo("script", ["-qfec", command, "/dev/null"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Root,
            };
            start.Environment["PATH"] = $"{Shims}:{start.Environment["PATH"]}";
            // Ports of its own, beside the other tests' servers.
            start.Environment["Kestrel__Endpoints__Metrics__Url"] = $"http://127.0.0.1:{_metricsPort}";
            start.Environment["PortHistory__Silo__SiloPort"] = Text(_siloPort);
            start.Environment["PortHistory__Silo__GatewayPort"] = Text(_gatewayPort);
            start.Environment["TERM"] = "xterm";
            var run = new Run(this, Process.Start(start)!);
            run.Listen();
            try
            {
                await run.WaitUntilServingAsync();
            }
            catch
            {
                await run.DisposeAsync();
                throw;
            }

            return run;
        }

        public async Task DisposeAsync()
        {
            // After a failed case the cluster may still run; the script's own lock tells nothing here.
            var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pg_ctl")).First(File.Exists);
            try
            {
                await PostgresAsync(bin, "-D", Path.Combine(Data, "postgres"), "-m", "immediate", "-w", "stop");
            }
            catch (InvalidOperationException)
            {
                // Not running: as it should be.
            }

            Directory.Delete(Root, recursive: true);
        }

        private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);

        public static void Kill(int pid, string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", Text(pid)])!;
            kill.WaitForExit();
        }

        /// <summary>Null once the process has ended (a zombie has ended too).</summary>
        public static ProcessIdentity? Identity(int pid)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return null;
            }

            // After the command's name, which may hold spaces and parentheses: state, ppid, ... starttime (field 22).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? null : new ProcessIdentity(pid, long.Parse(fields[19], CultureInfo.InvariantCulture));
        }

        public static async Task GoneAsync(ProcessIdentity process, TimeSpan timeout, string output)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Identity(process.Pid) == process)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new Xunit.Sdk.XunitException($"{CommandLine(process.Pid)} (pid {process.Pid}) still runs after the script ended:\n{output}");
                }

                await Task.Delay(50);
            }
        }

        public static Task GoneAsync(int pid, TimeSpan timeout) =>
            Identity(pid) is { } process ? GoneAsync(process, timeout, "") : Task.CompletedTask;

        public static string CommandLine(int pid)
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').TrimEnd();
            }
            catch (IOException)
            {
                return "";
            }
        }

        public static IEnumerable<int> Children(int parent)
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(directory, "stat"));
                }
                catch (IOException)
                {
                    continue;
                }

                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[1] == Text(parent)) yield return pid;
            }
        }

        public static List<int> Descendants(int root)
        {
            var found = new List<int>();
            var pending = new Queue<int>([root]);
            while (pending.TryDequeue(out var parent))
            {
                foreach (var child in Children(parent))
                {
                    found.Add(child);
                    pending.Enqueue(child);
                }
            }

            return found;
        }

        private static Task PostgresAsync(string tool, params string[] arguments) =>
            IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", tool, .. arguments]) : RunAsync(tool, arguments);

        private static async Task RunAsync(string program, params string[] arguments)
        {
            var start = new ProcessStartInfo(program, arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/",
            };
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)}: {output}{await error}");
        }

        private static async Task ExecuteAsync(string connectionString, string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
