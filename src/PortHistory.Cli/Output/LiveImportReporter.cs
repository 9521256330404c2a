using System.Collections.Concurrent;
using PortHistory.Contracts.V1;
using Spectre.Console;

namespace PortHistory.Cli.Output;

/// <summary>
/// A progress bar per file on an interactive terminal, captioned with the server's current stage. When the imports
/// end the bars go, and the lines a log would have had are written in their place, so the scrollback keeps the result.
/// </summary>
public sealed class LiveImportReporter(IAnsiConsole terminal, TextWriter output) : IImportReporter
{
    private const int CaptionLength = 70;

    private readonly StringWriter _log = new();
    private readonly ConcurrentDictionary<string, ProgressTask> _bars = new(StringComparer.Ordinal);
    private PlainImportReporter? _lines;

    public async Task<T> ShowAsync<T>(IReadOnlyList<string> files, Func<Task<T>> imports)
    {
        _lines = new PlainImportReporter(_log);
        var result = await terminal.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                foreach (var file in files) _bars[file] = progress.AddTask(Caption(file, "uploading"), maxValue: 100);
                return await imports();
            });
        await output.WriteAsync(_log.ToString());
        return result;
    }

    public void Progress(string file, ImportEditionProgress progress)
    {
        _lines?.Progress(file, progress);
        if (!_bars.TryGetValue(file, out var bar)) return;
        bar.Value = Math.Max(bar.Value, Percent(progress));
        bar.Description = Caption(file, PlainImportReporter.Describe(progress));
    }

    public void Finished(ImportOutcome outcome)
    {
        _lines?.Finished(outcome);
        if (!_bars.TryGetValue(outcome.File, out var bar)) return;
        if (outcome.Error is null) bar.Value = bar.MaxValue;
        else bar.Description = Caption(outcome.File, "failed");
        bar.StopTask();
    }

    /// <summary>How far along a file is: staging is most of the wait, so it takes most of the bar.</summary>
    public static double Percent(ImportEditionProgress progress) => progress.Stage switch
    {
        ImportStage.Received => 5,
        ImportStage.Parsed => 10,
        ImportStage.Queued => 15,
        ImportStage.Staging => 15 + (progress.Total == 0 ? 0 : 75.0 * Math.Min(progress.Done, progress.Total) / progress.Total),
        ImportStage.Indexing => 95,
        ImportStage.Committed or ImportStage.AlreadyImported => 100,
        _ => 0,
    };

    private static string Caption(string file, string text)
    {
        var caption = $"{Path.GetFileName(file)}: {text}";
        return Markup.Escape(caption.Length <= CaptionLength ? caption : caption[..(CaptionLength - 1)] + "…");
    }
}
