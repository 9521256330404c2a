using System.Diagnostics;
using System.Reflection;
using PortHistory.Testing;

namespace PortHistory.Cli.Tests;

/// <summary>The CLI as users get it: packed as a .NET tool, installed with `dotnet tool install`, run as `porthistory`.</summary>
[Trait("Category", "Slow")]
public sealed class ToolPackageTests : IDisposable
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(3);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("porthistory-tool-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task The_packed_tool_installs_and_answers_port_771_offline()
    {
        var version = typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        var packages = Path.Combine(_directory.FullName, "packages");
        var tools = Path.Combine(_directory.FullName, "tools");

        // The test's own build just built the CLI in this configuration: pack that build rather than building again.
        var pack = await RunAsync("dotnet", "pack", Path.Combine(RepositoryRoot(), "src", "PortHistory.Cli"), "-c", Configuration, "--no-build", "-o", packages, "-nologo");
        Assert.True(pack.Exit == 0, pack.Output);
        Assert.True(File.Exists(Path.Combine(packages, $"PortHistory.Cli.{version}.nupkg")), pack.Output);

        var install = await RunAsync("dotnet", "tool", "install", "--tool-path", tools, "--add-source", packages, "--ignore-failed-sources",
            "PortHistory.Cli", "--version", version);
        Assert.True(install.Exit == 0, install.Output);

        var porthistory = Path.Combine(tools, OperatingSystem.IsWindows() ? "porthistory.exe" : "porthistory");
        var help = await RunAsync(porthistory, "--help");
        Assert.Equal(0, help.Exit);
        Assert.Contains("porthistory [command] [options]", help.Output);

        var shownVersion = await RunAsync(porthistory, "--version");
        Assert.StartsWith(version, shownVersion.Output.Trim());

        var port = await RunAsync(porthistory, "--editions", RegistryData.Directory, "port", "771", "--as-of", "1993-01-01");
        Assert.True(port.Exit == 0, port.Output);
        Assert.Matches(@"(?m)^tcp\s+rtip\s+assigned\s.*rfc1340", port.Output);
        Assert.Matches(@"(?m)^udp\s+rtip\s+assigned\s.*rfc1340", port.Output);
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PortHistory.sln"))) return directory.FullName;
        }

        throw new DirectoryNotFoundException($"no PortHistory.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a program to its end (or the step limit), with its stdout and stderr together.</summary>
    private static async Task<(int Exit, string Output)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(StepLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within {StepLimit}");
        }

        return (process.ExitCode, await output + await error);
    }
}
