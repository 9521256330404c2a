using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>
/// Shows the progress of `import` as the server reports it: a live bar on a terminal, one plain line per stage change
/// otherwise, NDJSON events with --json. Calls may come from several files' imports at once.
/// </summary>
public interface IImportReporter
{
    /// <summary>Runs the imports of these files while their progress is shown, and gives back what they returned.</summary>
    Task<T> ShowAsync<T>(IReadOnlyList<string> files, Func<Task<T>> imports);

    /// <summary>A message from the server about one file.</summary>
    void Progress(string file, ImportEditionProgress progress);

    /// <summary>A file's import ended: with the server's last message, or with an error.</summary>
    void Finished(ImportOutcome outcome);
}

/// <summary>How one file's import ended: the server's last message, or why it failed.</summary>
public sealed record ImportOutcome(string File, ImportEditionProgress? Last, string? Error);
