using System.Text.Json;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Output;

/// <summary>
/// --json for `import`: newline-delimited JSON, one "progress" event per server message and one "result" event per
/// file when its import ends (stage, edition and generation, or the error).
/// </summary>
public sealed class JsonImportReporter(TextWriter output) : IImportReporter
{
    private readonly Lock _gate = new();

    public Task<T> ShowAsync<T>(IReadOnlyList<string> files, Func<Task<T>> imports) => imports();

    public void Progress(string file, ImportEditionProgress progress) => Write(new
    {
        @event = "progress",
        file,
        stage = progress.Stage,
        message = progress.Message,
        done = progress.Total > 0 ? progress.Done : (uint?)null,
        total = progress.Total > 0 ? progress.Total : (uint?)null,
        generation = progress.Generation > 0 ? progress.Generation : (ulong?)null,
    });

    public void Finished(ImportOutcome outcome) => Write(new
    {
        @event = "result",
        file = outcome.File,
        stage = outcome.Last?.Stage,
        edition = outcome.Last?.Edition?.ToDomain(),
        generation = outcome.Last?.Generation,
        error = outcome.Error,
    });

    private void Write<T>(T value)
    {
        var line = JsonSerializer.Serialize(value, Json.CompactOptions);
        lock (_gate) output.WriteLine(line);
    }
}
