using System.CommandLine;

namespace PortHistory.Agent.Tests;

public sealed class AgentAppTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-app-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Runs the agent with no default settings file, whatever the machine has in /etc.</summary>
    private async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await AgentApp.RunAsync(args, output, error, CancellationToken.None, defaultConfigFile: Path.Combine(_directory, "none.conf"));
        return (exit, output.ToString(), error.ToString());
    }

    private string WriteConfig(string text)
    {
        var path = Path.Combine(_directory, "agent.conf");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_settings_file_supplies_options_and_the_command_line_overrides_them()
    {
        using var proc = new FakeProc().WithSelf(effectiveUid: 0);
        var config = WriteConfig($"# test host\nhost-ref = from-file\nproc-root = {proc.Root}\ndry-run = true\n");

        var (exit, output, error) = await Run("--config", config);
        Assert.Equal(AgentApp.Ok, exit);
        Assert.Empty(error);
        Assert.StartsWith("host_ref from-file, ", output, StringComparison.Ordinal);

        (exit, output, _) = await Run("--config", config, "--host-ref", "from-flag");
        Assert.Equal(AgentApp.Ok, exit);
        Assert.StartsWith("host_ref from-flag, ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("interval = 5x", "--interval must be")]
    [InlineData("batch-size = many", "many")]
    [InlineData("server = ftp://example", "--server must be")]
    [InlineData("spool = /var/spool", "unknown setting \"spool\"")]
    [InlineData("interval 5m", "expected \"key = value\"")]
    public async Task A_bad_setting_in_the_file_exits_2_naming_the_file_and_line(string line, string message)
    {
        var config = WriteConfig($"host-ref = h\n{line}\n");

        var (exit, _, error) = await Run("--config", config, "--once", "--token", "t");

        Assert.Equal(AgentApp.Usage, exit);
        Assert.StartsWith($"error: {config}:2: ", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_config_named_on_the_command_line_exits_2()
    {
        var (exit, _, error) = await Run("--config", Path.Combine(_directory, "absent.conf"), "--dry-run", "--host-ref", "h");

        Assert.Equal(AgentApp.Usage, exit);
        Assert.Contains("absent.conf", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dry_run_prints_the_sightings_and_needs_no_server_or_token()
    {
        using var proc = new FakeProc()
            .WithSelf(effectiveUid: 0)
            .WithTable("tcp6", "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode\n"
                + "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n")
            .WithProcess(4242, "sshd", 0, [12345], executable: "/usr/sbin/sshd");

        var (exit, output, error) = await Run("--dry-run", "--proc-root", proc.Root, "--host-ref", "host-a");

        Assert.Equal(AgentApp.Ok, exit);
        Assert.Empty(error);
        Assert.StartsWith("host_ref host-a, 1 sightings, agent privileged", output, StringComparison.Ordinal);
        var row = output.Split('\n').Single(line => line.StartsWith("tcp", StringComparison.Ordinal));
        Assert.Equal(["tcp", "::", "22", "LISTEN", "wildcard", "4242"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..6]);
        Assert.Contains("/usr/sbin/sshd", row, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--interval", "5x")]
    [InlineData("--batch-size", "many")]
    [InlineData("--bogus")]
    [InlineData("--once", "--server", "ftp://example")]
    [InlineData("--once", "--spool-max-bytes", "lots")]
    [InlineData("--once", "--spool-max-bytes", "1KiB")]
    public async Task Usage_mistakes_exit_2_with_a_message(params string[] args)
    {
        var (exit, _, error) = await Run([.. args, "--token", "t", "--host-ref", "h"]);

        Assert.Equal(AgentApp.Usage, exit);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void For_every_setting_of_every_command_a_flag_wins_over_the_settings_file()
    {
        var root = AgentApp.Command(TextWriter.Null, TextWriter.Null, () => null);
        var checkedOptions = 0;
        foreach (var (path, command) in Commands(root, []))
        {
            foreach (var option in command.Options.Where(o => o != AgentConfigFile.Option && o.Action is null))
            {
                var key = option.Name[2..];
                var (fromFile, fromFlag) = option.ValueType == typeof(bool) ? ("false", "true")
                    : option.ValueType == typeof(int) ? ("7", "9")
                    : ("from-file", "from-flag");
                var config = WriteConfig($"{key} = {fromFile}\n");

                var (withFlag, _) = AgentConfigFile.ParseCommandLine(root, [.. path, "--config", config, $"--{key}={fromFlag}"]);
                var (withoutFlag, applied) = AgentConfigFile.ParseCommandLine(root, [.. path, "--config", config]);

                Assert.True(fromFlag == Value(withFlag, option), $"{string.Join(' ', path)} --{key}: the flag's value should win");
                Assert.True(fromFile == Value(withoutFlag, option), $"{string.Join(' ', path)} {key}: the file's value should apply without the flag");
                Assert.Equal(key, Assert.Single(applied!.Entries).Key);
                checkedOptions++;
            }
        }

        // Every option of the agent, its status, enroll and rotate-credential commands.
        Assert.True(checkedOptions >= 20, $"{checkedOptions} options checked");

        static string? Value(ParseResult parse, Option option) =>
            parse.GetResult(option)?.GetValueOrDefault<object?>() is { } value ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)?.ToLowerInvariant() : null;

        static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path) =>
            command.Subcommands.SelectMany(sub => Commands(sub, [.. path, sub.Name])).Prepend((path, command));
    }

    [Fact]
    public async Task A_token_flag_and_a_token_file_in_the_settings_file_exit_2_naming_both()
    {
        var config = WriteConfig("# settings\nhost-ref = h\n\ntoken-file = /etc/porthistory/agent.token\n");

        var (exit, _, error) = await Run("--config", config, "--token", "t", "--once");

        Assert.Equal(AgentApp.Usage, exit);
        Assert.Equal($"error: a token and a token file are both given: --token (flag) and token-file ({config} line 4); keep one\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Enroll_takes_its_required_secret_file_from_the_settings_file()
    {
        var config = WriteConfig($"server = http://10.9.9.9:7710\nenroll-secret-file = {Path.Combine(_directory, "absent-secret")}\n");

        var (exit, _, error) = await Run("enroll", "--config", config);

        // Past the parse (the option is there): refused for the plain http server, before any secret is read or sent.
        Assert.Equal(AgentApp.Usage, exit);
        Assert.Contains("--allow-insecure", error, StringComparison.Ordinal);
        Assert.DoesNotContain("required", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Plain_http_to_another_host_is_refused_unless_allow_insecure_is_set_in_the_file_or_as_a_flag()
    {
        using var proc = new FakeProc().WithSelf(effectiveUid: 0);
        var config = WriteConfig($"host-ref = h\nproc-root = {proc.Root}\ndry-run = true\nserver = http://10.0.0.5:7710\n");

        var (exit, _, error) = await Run("--config", config);
        Assert.Equal(AgentApp.Usage, exit);
        Assert.StartsWith($"error: {config}:4: --server http://10.0.0.5:7710 is plain http:// to another host", error, StringComparison.Ordinal);

        Assert.Equal(AgentApp.Ok, (await Run("--config", config, "--allow-insecure")).Exit);
        File.AppendAllText(config, "allow-insecure = true\n");
        Assert.Equal(AgentApp.Ok, (await Run("--config", config)).Exit);
    }

    [Fact]
    public void Heartbeat_and_full_reports_come_from_the_settings_file_and_flags_win()
    {
        var config = WriteConfig("host-ref = h\nheartbeat = 5m\nfull-reports = true\ntoken = t\n");
        var root = AgentApp.Command(TextWriter.Null, TextWriter.Null, () => null);

        var (fromFile, applied) = AgentConfigFile.ParseCommandLine(root, ["--config", config]);
        var settings = AgentApp.Resolve(fromFile, applied);
        Assert.Equal((TimeSpan.FromMinutes(5), true), (settings.Heartbeat, settings.FullReports));

        var (withFlags, appliedWithFlags) = AgentConfigFile.ParseCommandLine(root, ["--config", config, "--heartbeat", "30s", "--full-reports=false"]);
        settings = AgentApp.Resolve(withFlags, appliedWithFlags);
        Assert.Equal((TimeSpan.FromSeconds(30), false), (settings.Heartbeat, settings.FullReports));
    }
}
