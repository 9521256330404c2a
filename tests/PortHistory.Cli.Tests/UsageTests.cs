using PortHistory.Testing;

namespace PortHistory.Cli.Tests;

/// <summary>What the parser refuses is bad usage like any other, and the parser answers shell completion requests.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("port 771 --bogus", "--bogus")]
    [InlineData("--jsn port 771", "--jsn")]
    [InlineData("prot 771", "prot")]
    [InlineData("port", "Required argument missing")]
    [InlineData("token", "Required command was not provided")]
    [InlineData("import --format", "--format")]
    public async Task What_the_parser_refuses_exits_2_with_the_reason_on_stderr_and_nothing_on_stdout(string command, string named)
    {
        var run = await CliRun.RunAsync(["--editions", RegistryData.Directory, .. command.Split(' ')]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.Error);
        Assert.Contains("--help' for usage", run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task A_misspelt_verb_gets_a_suggestion_on_stderr()
    {
        var run = await CliRun.RunAsync("--editions", RegistryData.Directory, "prot", "771");

        Assert.Matches(@"'prot' was not matched\. Did you mean one of the following\?\s+port\b", run.Error);
    }

    [Fact]
    public async Task The_suggest_directive_that_dotnet_suggest_sends_completes_verbs_and_options()
    {
        var verbs = await CliRun.RunAsync("[suggest:2]", "po");
        Assert.Equal(0, verbs.ExitCode);
        Assert.Contains("port", Lines(verbs.Output));
        Assert.Contains("ports", Lines(verbs.Output));
        Assert.DoesNotContain("timeline", Lines(verbs.Output));

        var options = await CliRun.RunAsync("[suggest:12]", "port 771 --a");
        Assert.Equal(["--as-of"], Lines(options.Output));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
