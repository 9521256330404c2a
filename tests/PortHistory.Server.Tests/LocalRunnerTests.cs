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
}
