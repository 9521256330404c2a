using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>
/// One line per file and stage ("rfc1340.txt: staging 0/5000 ports in generation 7"), not one per message: staging
/// reports every few ports, and a log should stay readable. The last count of a stage is written when the next stage
/// begins, so the log shows both where staging started and where it ended.
/// </summary>
public sealed class PlainImportReporter(TextWriter output) : IImportReporter
{
    private readonly Dictionary<string, FileState> _files = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task<T> ShowAsync<T>(IReadOnlyList<string> files, Func<Task<T>> imports) => imports();

    public void Progress(string file, ImportEditionProgress progress)
    {
        lock (_gate)
        {
            if (!_files.TryGetValue(file, out var state)) _files[file] = state = new FileState();

            // Parsing follows receipt at once: the byte count goes on the parsed line rather than a line of its own.
            if (progress.Stage == ImportStage.Received)
            {
                state.Received = ServerText.Printable(progress.Message);
                return;
            }

            if (progress.Stage == state.Stage)
            {
                state.Unwritten = progress;
                return;
            }

            WriteUnwritten(file, state);
            state.Stage = progress.Stage;
            var line = Describe(progress);
            if (progress.Stage == ImportStage.Parsed && state.Received is { Length: > 0 } received) line += $" ({received})";
            Write(file, line);
        }
    }

    public void Finished(ImportOutcome outcome)
    {
        lock (_gate)
        {
            if (_files.TryGetValue(outcome.File, out var state)) WriteUnwritten(outcome.File, state);
        }
    }

    /// <summary>What one message says, in the words of a progress line; also the live bar's caption.</summary>
    public static string Describe(ImportEditionProgress progress) => progress.Stage switch
    {
        ImportStage.Staging => $"staging {progress.Done}/{progress.Total} ports in generation {progress.Generation}",
        ImportStage.Committed when progress.Generation > 0 => $"{ServerText.Printable(progress.Message)} in generation {progress.Generation}",
        _ => ServerText.Printable(progress.Message),
    };

    private void WriteUnwritten(string file, FileState state)
    {
        if (state.Unwritten is not { } last) return;
        state.Unwritten = null;
        Write(file, Describe(last));
    }

    private void Write(string file, string line) => output.WriteLine($"{Path.GetFileName(file)}: {line}");

    private sealed class FileState
    {
        public ImportStage? Stage { get; set; }

        public string? Received { get; set; }

        /// <summary>The newest message of the current stage, not yet written.</summary>
        public ImportEditionProgress? Unwritten { get; set; }
    }
}
