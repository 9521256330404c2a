using System.Diagnostics;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>A fenced block of a document, where it starts, and its text.</summary>
public sealed record DocumentedBlock(string File, int Line, string Script)
{
    public string Name => $"{File}:{Line}";
}

/// <summary>What bash printed and how it exited.</summary>
public sealed record BashResult(int ExitCode, string Output, string Errors, bool TimedOut);

/// <summary>
/// The commands README.md and docs/*.md show, and bash to run them as a reader pastes them. A block runs when its
/// fence's info string says so: ```sh runnable (or ```bash runnable).
/// </summary>
public static class DocumentedCommands
{
    /// <summary>README.md and every document under docs/, as repository-relative paths.</summary>
    public static IReadOnlyList<string> Documents()
    {
        var docs = Directory.EnumerateFiles(Path.Combine(RegistryData.RepositoryRoot, "docs"), "*.md")
            .Select(path => $"docs/{Path.GetFileName(path)}")
            .Order(StringComparer.Ordinal);
        return ["README.md", .. docs];
    }

    /// <summary>The runnable blocks of every document, in document order.</summary>
    public static IReadOnlyList<DocumentedBlock> RunnableBlocks() => [.. Documents().SelectMany(RunnableBlocks)];

    public static IEnumerable<DocumentedBlock> RunnableBlocks(string document)
    {
        var lines = File.ReadAllLines(Path.Combine(RegistryData.RepositoryRoot, document));
        for (var i = 0; i < lines.Length; i++)
        {
            if (!IsRunnableFence(lines[i])) continue;
            var end = Array.FindIndex(lines, i + 1, line => line.TrimEnd() == "```");
            if (end < 0) throw new InvalidDataException($"{document}:{i + 1}: the block never closes");
            yield return new DocumentedBlock(document, i + 1, string.Join('\n', lines[(i + 1)..end]));
            i = end;
        }
    }

    private static bool IsRunnableFence(string line) =>
        line.Trim() is "```sh runnable" or "```bash runnable";

    /// <summary>Runs a script with bash in <paramref name="directory"/>, with these variables added to this process's.</summary>
    public static async Task<BashResult> RunAsync(string script, IReadOnlyDictionary<string, string> environment, string? directory = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("bash", ["-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory ?? Environment.CurrentDirectory,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new BashResult(process.ExitCode, await output, await errors, TimedOut: true);
        }

        return new BashResult(process.ExitCode, await output, await errors, TimedOut: false);
    }
}
