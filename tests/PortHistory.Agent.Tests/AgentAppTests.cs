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
}
