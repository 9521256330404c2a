using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// deploy/run-local.sh run as a person runs it, in a terminal: under a pseudo-terminal made by util-linux's
/// <c>script</c> (on every Debian system), with the built server and no editions unless a case needs one. However it
/// ends (Ctrl-C, a second Ctrl-C while stopping, SIGTERM, SIGHUP, its terminal closed, the server killed), the server
/// and the PostgreSQL postmaster it started are gone afterwards, and it said that it stopped them. The cases share one
/// data directory, which starts as an earlier version of the script left it when its terminal was closed: a trust-mode
/// cluster, still running, listening on TCP, whose tables the superuser owns.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class LocalRunnerTests(LocalRunnerTests.Workspace workspace) : IClassFixture<LocalRunnerTests.Workspace>
{
    private static readonly TimeSpan Serving = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Stopping = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Ctrl_C_stops_the_server_and_PostgreSQL()
    {
        await using var run = await workspace.StartAsync();
        await run.TypeAsync("\x03");
        await run.ExitAsync(Stopping);
        await run.AssertStoppedAsync();
        Assert.Contains("SIGINT received", run.Output, StringComparison.Ordinal);
        Assert.Contains("server stopped", run.Output, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL stopped", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_Ctrl_C_while_stopping_still_stops_everything_at_once()
    {
        await using var run = await workspace.StartAsync();
        // The second Ctrl-C is typed the moment the script says it is stopping the server, while it waits for it.
        run.WhenOutput("stopping the server", () => run.TypeAsync("\x03"));
        await run.TypeAsync("\x03");
        await run.ExitAsync(Stopping);
        await run.AssertStoppedAsync();
        Assert.Contains("SIGINT again: stopping at once", run.Output, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL stopped", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("HUP")]
    public async Task A_signal_to_the_script_stops_the_server_and_PostgreSQL(string signal)
    {
        await using var run = await workspace.StartAsync();
        Workspace.Kill(run.Script, signal);
        await run.ExitAsync(Stopping);
        await run.AssertStoppedAsync();
        Assert.Contains($"SIG{signal} received", run.Output, StringComparison.Ordinal);
        Assert.Contains("server stopped", run.Output, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL stopped", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_its_terminal_stops_the_server_and_PostgreSQL_and_the_log_says_so()
    {
        await using var run = await workspace.StartAsync();
        var logged = File.ReadAllText(workspace.RunLog).Length;
        // The terminal window goes: the pty's master end closes and the kernel hangs up the script's session.
        Workspace.Kill(run.Terminal.Id, "KILL");
        await Workspace.GoneAsync(run.Script, Stopping);
        await run.AssertStoppedAsync();
        var log = File.ReadAllText(workspace.RunLog)[logged..];
        Assert.Contains("SIGHUP received", log, StringComparison.Ordinal);
        Assert.Contains("server stopped", log, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL stopped", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_crashed_server_stops_PostgreSQL_too()
    {
        await using var run = await workspace.StartAsync();
        Workspace.Kill(run.Server.Pid, "KILL");
        var exit = await run.ExitAsync(Stopping);
        await run.AssertStoppedAsync();
        Assert.Equal(1, exit);
        Assert.Contains("the server exited, killed by SIGKILL", run.Output, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL stopped", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cluster_is_reached_by_peer_authentication_on_its_socket_only_and_the_server_is_no_superuser()
    {
        await using var run = await workspace.StartAsync();
        Assert.DoesNotMatch(@"(?m)^\s*(local|host)\S*\s.*\btrust\b", await File.ReadAllTextAsync(Path.Combine(workspace.Data, "postgres", "pg_hba.conf")));
        // No TCP listener: the earlier version's 127.0.0.1 listener is gone.
        using (var tcp = new TcpClient())
        {
            await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync("127.0.0.1", workspace.PgPort));
        }

        // The server's role, as the user who ran the script reaches it: owns every table (those the superuser
        // created in the earlier version too), and may neither read the server's files nor run programs.
        await using (var connection = new NpgsqlConnection(workspace.SocketConnectionString("porthistory")))
        {
            await connection.OpenAsync();
            Assert.Equal((false, false, false), await ScalarAsync(connection,
                "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user",
                r => (r.GetBoolean(0), r.GetBoolean(1), r.GetBoolean(2))));
            Assert.Equal(0L, await ScalarAsync(connection,
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S') AND c.relowner <> 'porthistory'::regrole", r => r.GetInt64(0)));
            Assert.True(await ScalarAsync(connection, "SELECT count(*) FROM schema_migrations", r => r.GetInt64(0)) > 0);
            foreach (var forbidden in new[] { "SELECT pg_read_file('postgresql.conf')", "COPY (SELECT 1) TO PROGRAM 'true'" })
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection, forbidden, r => 0));
                Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            }
        }

        if (Workspace.IsRoot)
        {
            // Root runs the server, PostgreSQL runs as postgres: root is not let in as the superuser.
            await using var superuser = new NpgsqlConnection(workspace.SocketConnectionString("postgres"));
            var refused = await Assert.ThrowsAsync<PostgresException>(() => superuser.OpenAsync());
            Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, refused.SqlState);
        }

        await run.TypeAsync("\x03");
        await run.ExitAsync(Stopping);
        await run.AssertStoppedAsync();
    }

    [Fact]
    public async Task The_admin_token_is_on_no_command_line_nor_on_the_terminal()
    {
        var editions = Directory.CreateDirectory(Path.Combine(workspace.Root, "editions")).FullName;
        File.Copy(RegistryData.PathOf("rfc1010.txt"), Path.Combine(editions, "rfc1010.txt"), overwrite: true);
        var recorded = File.Exists(workspace.CommandLog) ? File.ReadAllText(workspace.CommandLog).Length : 0;
        await using var run = await workspace.StartAsync("--editions", editions);
        var token = (await File.ReadAllTextAsync(Path.Combine(workspace.Data, "admin-token"))).Trim();
        Assert.True(token.Length >= 20, token);

        // Every dotnet process the script started (server and CLI calls), as its /proc/PID/cmdline read.
        var commands = File.ReadAllText(workspace.CommandLog)[recorded..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(commands, c => c.Contains("PortHistory.Server.dll", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.Contains(" import ", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.Contains(" editions", StringComparison.Ordinal));
        Assert.All(commands, c => Assert.DoesNotContain(token, c, StringComparison.Ordinal));
        // And every process running now under the terminal, PostgreSQL's included.
        var running = Workspace.Descendants(run.Terminal.Id).Concat(Workspace.Descendants(run.Postmaster.Pid)).Append(run.Postmaster.Pid).ToList();
        Assert.Contains(run.Server.Pid, running);
        Assert.All(running, pid => Assert.DoesNotContain(token, Workspace.CommandLine(pid), StringComparison.Ordinal));
        Assert.Contains("rfc1010", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token, run.Output, StringComparison.Ordinal);

        await run.TypeAsync("\x03");
        await run.ExitAsync(Stopping);
        await run.AssertStoppedAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return read(reader);
    }

    /// <summary>A process as /proc knows it: its id and start time, so that a reused id is not taken for it.</summary>
    public readonly record struct ProcessIdentity(int Pid, long StartTime);

    /// <summary>One run of the script under its own pseudo-terminal.</summary>
    public sealed class Run(Workspace workspace, Process terminal) : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly List<(string Text, Func<Task> Action)> _triggers = [];

        public Process Terminal => terminal;

        /// <summary>The bash process running run-local.sh (the pty session's leader).</summary>
        public int Script { get; private set; }

        public ProcessIdentity Server { get; private set; }

        public ProcessIdentity Postmaster { get; private set; }

        /// <summary>What the terminal showed so far, without colours and carriage returns.</summary>
        public string Output
        {
            get
            {
                lock (_output) return Plain(_output.ToString());
            }
        }

        internal void Listen()
        {
            terminal.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                List<Func<Task>> due;
                lock (_output)
                {
                    _output.Append(e.Data).Append('\n');
                    var line = Plain(e.Data);
                    due = [.. _triggers.Where(t => line.Contains(t.Text, StringComparison.Ordinal)).Select(t => t.Action)];
                    _triggers.RemoveAll(t => line.Contains(t.Text, StringComparison.Ordinal));
                }

                foreach (var action in due) action().GetAwaiter().GetResult();
            };
            terminal.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_output) _output.Append(e.Data).Append('\n');
            };
            terminal.BeginOutputReadLine();
            terminal.BeginErrorReadLine();
        }

        /// <summary>Runs the action as soon as a line with the text is shown.</summary>
        public void WhenOutput(string text, Func<Task> action)
        {
            lock (_output) _triggers.Add((text, action));
        }

        /// <summary>Keys typed in the terminal: "\x03" is Ctrl-C, which the pty turns into SIGINT.</summary>
        public async Task TypeAsync(string keys)
        {
            await terminal.StandardInput.WriteAsync(keys);
            await terminal.StandardInput.FlushAsync();
        }

        internal async Task WaitUntilServingAsync()
        {
            var deadline = DateTime.UtcNow + Serving;
            while (!Output.Contains("Ctrl-C stops the server and PostgreSQL.", StringComparison.Ordinal))
            {
                if (terminal.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new Xunit.Sdk.XunitException($"run-local.sh did not get to serving:\n{Output}");
                }

                await Task.Delay(50);
            }

            Script = Workspace.Children(terminal.Id).Single(pid => Workspace.CommandLine(pid).Contains("run-local.sh", StringComparison.Ordinal));
            var server = Workspace.Descendants(Script).Where(pid => Workspace.CommandLine(pid).Contains("PortHistory.Server.dll", StringComparison.Ordinal)).ToList();
            Server = Workspace.Identity(Assert.Single(server))!.Value;
            var postmaster = int.Parse(File.ReadLines(Path.Combine(workspace.Data, "postgres", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            Assert.Contains($"-D {workspace.Data}/postgres", Workspace.CommandLine(postmaster), StringComparison.Ordinal);
            Postmaster = Workspace.Identity(postmaster)!.Value;
        }

        /// <summary>Waits for the terminal to close (the script's end) and gives the script's exit status.</summary>
        public async Task<int> ExitAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await terminal.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"run-local.sh did not end within {timeout}:\n{Output}");
            }

            return terminal.ExitCode;
        }

        /// <summary>The server and the postmaster are gone once the script has ended (at most the moment a process takes to exit).</summary>
        public async Task AssertStoppedAsync()
        {
            await Workspace.GoneAsync(Server, TimeSpan.FromSeconds(5), Output);
            await Workspace.GoneAsync(Postmaster, TimeSpan.FromSeconds(5), Output);
        }

        public async ValueTask DisposeAsync()
        {
            // Only after a failed case: nothing the script started may outlive the test.
            if (!terminal.HasExited) Workspace.Kill(terminal.Id, "KILL");
            await terminal.WaitForExitAsync();
            if (Script != 0) await Workspace.GoneAsync(Script, Stopping);
            foreach (var left in new[] { Server, Postmaster })
            {
                if (left.Pid != 0 && Workspace.Identity(left.Pid) == left) Workspace.Kill(left.Pid, "KILL");
            }

            terminal.Dispose();
        }

        private static string Plain(string text) => AnsiEscape().Replace(text, "").Replace("\r", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")]
    private static partial Regex AnsiEscape();

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
