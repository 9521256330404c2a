namespace PortHistory.Agent.Tests;

public sealed class AgentAppTests
{
    private static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await AgentApp.RunAsync(args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
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
