using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// Every block README.md and docs/*.md mark runnable (```sh runnable) runs with bash, every command of it, against a
/// real server, and succeeds with something to show. The blocks find the server through the variables the README's
/// tour sets (PORTHISTORY_SERVER, PORTHISTORY_HTTP, PORTHISTORY_TOKEN, and PORTHISTORY_METRICS), and porthistory and
/// porthistory-agent on the PATH; each runs in a scratch directory where ../shared/data/registry is the edition files,
/// as from the repository root.
/// </summary>
[Collection(HttpJsonCollection.Name)]
public sealed class DocumentedCommandTests(HttpJsonServer fixture) : IDisposable
{
    private static readonly TimeSpan BlockLimit = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("porthistory-docs-");

    public void Dispose() => _scratch.Delete(recursive: true);

    public static TheoryData<string> Blocks => [.. DocumentedCommands.RunnableBlocks().Select(b => b.Name)];

    [Fact]
    public void The_README_and_the_documents_have_runnable_blocks()
    {
        var blocks = DocumentedCommands.RunnableBlocks();
        Assert.Contains(blocks, b => b.File == "README.md");
        Assert.True(blocks.Count >= 8, $"only {blocks.Count} runnable blocks: {string.Join(", ", blocks.Select(b => b.Name))}");
        Assert.All(blocks, b => Assert.False(string.IsNullOrWhiteSpace(b.Script), $"{b.Name} is empty"));
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public async Task A_runnable_block_exits_0_and_prints_something(string name)
    {
        var block = DocumentedCommands.RunnableBlocks().Single(b => b.Name == name);
        var result = await DocumentedCommands.RunAsync($"set -euo pipefail\n{block.Script}", Environment(), WorkingDirectory(), BlockLimit);

        var context = $"{block.Name}:\n{block.Script}\n--- exit {result.ExitCode}{(result.TimedOut ? $", killed after {BlockLimit.TotalSeconds} s" : "")}\n"
            + $"--- stdout:\n{result.Output}\n--- stderr:\n{result.Errors}\n--- server problems:\n{fixture.Server.Problems}";
        Assert.True(result.ExitCode == 0 && !result.TimedOut, context);
        Assert.True(result.Output.Trim().Length > 0, context);
    }

    /// <summary>The server's addresses and admin token, and the tools first on the PATH.</summary>
    private Dictionary<string, string> Environment() => new()
    {
        ["PORTHISTORY_SERVER"] = fixture.Server.Address,
        ["PORTHISTORY_HTTP"] = fixture.Server.HttpAddress,
        ["PORTHISTORY_METRICS"] = fixture.Server.MetricsAddress,
        ["PORTHISTORY_TOKEN"] = fixture.Server.AdminToken,
        ["PATH"] = $"{Tools()}:{System.Environment.GetEnvironmentVariable("PATH")}",
    };

    /// <summary>A directory of scripts named porthistory and porthistory-agent that run the built tools.</summary>
    private string Tools()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "bin")).FullName;
        foreach (var (command, project, assembly) in new[]
                 {
                     ("porthistory", "PortHistory.Cli", "porthistory.dll"),
                     ("porthistory-agent", "PortHistory.Agent", "porthistory-agent.dll"),
                 })
        {
            var script = Path.Combine(bin, command);
            File.WriteAllText(script, $"#!/bin/sh\nexec dotnet '{ServerProcess.BuiltAssembly(project, assembly)}' \"$@\"\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return bin;
    }

    /// <summary>A fresh directory for the block's files, beside a link named shared to the edition files' shared folder.</summary>
    private string WorkingDirectory()
    {
        var shared = Path.Combine(_scratch.FullName, "shared");
        if (!Directory.Exists(shared))
        {
            // RegistryData.Directory is <shared>/data/registry.
            Directory.CreateSymbolicLink(shared, Directory.GetParent(RegistryData.Directory)!.Parent!.FullName);
        }

        return Directory.CreateDirectory(Path.Combine(_scratch.FullName, $"work-{Guid.NewGuid():N}")).FullName;
    }
}
