using System.Text.Json;
using PortHistory.Cli;

namespace PortHistory.Cli.Tests;

/// <summary>One run of the porthistory command line, in process, with what it wrote and its exit code.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error);
        return new CliRun(exit, output.ToString(), error.ToString());
    }

    public JsonElement Json() => JsonDocument.Parse(Output).RootElement;
}
