using System.CommandLine;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Commands;

/// <summary>Verbs that only make sense against a server: import.</summary>
public static class ServerCommands
{
    public static IEnumerable<Command> Build(CommandContext context)
    {
        yield return Import(context);
    }

    private static Command Import(CommandContext context)
    {
        var paths = new Argument<string[]>("path") { Description = "Edition file(s) or directories of edition files.", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string?>("--format") { Description = "Edition format, when detection should not decide." };
        var date = new Option<string?>("--date") { Description = "Effective date (yyyy-MM-dd) for formats without one." };
        var id = new Option<string?>("--id") { Description = "Edition id (only with a single file)." };
        var onServer = new Option<bool>("--on-server") { Description = "The paths are on the server's file system: send the path, not the bytes." };
        var command = new Command("import", "Import edition files into the server; the same file twice changes nothing.")
        {
            paths, format, date, id, onServer,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            if (source is not ServerRegistrySource server) throw new UsageException("import needs a server: pass --server URL (or set PORTHISTORY_SERVER)");
            var files = parse.GetValue(paths)!.SelectMany(IEnumerable<string> (p) => Directory.Exists(p)
                ? Directory.EnumerateFiles(p).Where(OfflineRegistrySource.IsEditionFile).Order(StringComparer.Ordinal)
                : [p]).ToList();
            var remote = parse.GetValue(onServer);
            foreach (var file in files.Where(f => !remote && !File.Exists(f))) throw new UsageException($"no such file: {file}");
            if (parse.GetValue(id) is not null && files.Count != 1) throw new UsageException("--id needs exactly one file");

            var header = new ImportEditionHeader
            {
                EffectiveDate = CliOptions.ParseDate(parse.GetValue(date), "--date")?.ToProto(),
                EditionId = parse.GetValue(id) ?? "",
            };
            if (parse.GetValue(format) is { } formatText)
            {
                if (!Registry.Model.EditionFormats.TryParse(formatText, out var parsed)) throw new UsageException($"unknown format \"{formatText}\"");
                header.Format = parsed.ToProto();
            }

            // Sent together: the server applies editions that arrive close together in one generation.
            var gate = new object();
            var results = await Task.WhenAll(files.Select(async Task<(string File, ImportEditionProgress? Progress, string? Error)> (file) =>
            {
                var fileHeader = header.Clone();
                fileHeader.FileName = Path.GetFileName(file);
                if (remote) fileHeader.ServerPath = file;
                try
                {
                    var last = await server.ImportAsync(file, fileHeader, progress =>
                    {
                        if (json || progress.Stage is not (ImportStage.Parsed or ImportStage.Committed or ImportStage.AlreadyImported)) return;
                        lock (gate) context.Output.WriteLine($"{Path.GetFileName(file)}: {progress.Message}");
                    }, cancel);
                    return (file, last, null);
                }
                catch (SourceException e)
                {
                    return (file, null, e.Message);
                }
            }));

            if (json)
            {
                Json.Write(context.Output, results.Select(r => new
                {
                    file = r.File,
                    stage = r.Progress?.Stage.ToString(),
                    edition = r.Progress?.Edition?.ToDomain(),
                    generation = r.Progress?.Generation,
                    error = r.Error,
                }));
            }

            var failed = results.Where(r => r.Error is not null).ToList();
            foreach (var failure in failed) await context.Error.WriteLineAsync($"error: {Path.GetFileName(failure.File)}: {failure.Error}");
            if (failed.Count > 0) throw new SourceException($"{failed.Count} of {results.Length} editions were not imported", isUsage: false);
        }));
        return command;
    }
}
