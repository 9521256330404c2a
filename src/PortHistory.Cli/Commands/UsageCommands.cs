using System.CommandLine;
using System.Globalization;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Cli.UsageFiles;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Commands;

/// <summary>Observed usage over time (server): one port's history as charts, and loading past observations from a file (admin role).</summary>
public static class UsageCommands
{
    public static IEnumerable<Command> Build(CommandContext context)
    {
        yield return Usage(context);
    }

    private static Command Usage(CommandContext context)
    {
        // Zero or one, so that "usage load FILE" is not a port missing; the action asks for the port.
        var port = new Argument<string?>("port") { Description = "Port number 0-65535.", Arity = ArgumentArity.ZeroOrOne };
        var since = new Option<string?>("--since") { Description = "First day (yyyy-MM-dd), included. Default: 364 days before --until." };
        var until = new Option<string?>("--until") { Description = "Last day (yyyy-MM-dd), included. Default: today (UTC)." };
        var by = new Option<string?>("--by") { Description = "One chart column per day, week (ISO, from Monday) or month. Default: day." };
        var top = new Option<int?>("--top") { Description = $"Processes drawn apart (by host-days), the rest as \"other\": 1-{MaxTop}. Default: 5." };
        var command = new Command("usage", "How many hosts had each process listening on a port, per day, week or month, and each process's lifetime there.")
        {
            port, CliOptions.Transport, since, until, by, top,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var text = parse.GetValue(port) ?? throw new UsageException("usage needs a port (or: usage load FILE)");
            var transport = CliOptions.ParseTransport(parse.GetValue(CliOptions.Transport));
            var (from, to) = (CliOptions.ParseDate(parse.GetValue(since), "--since"), CliOptions.ParseDate(parse.GetValue(until), "--until"));
            if (from > to) throw new UsageException($"--since ({parse.GetValue(since)}) is after --until ({parse.GetValue(until)})");
            var request = new GetUsageHistoryRequest
            {
                Port = (uint)CliOptions.ParsePort(text), Transport = (transport ?? TransportProtocol.Unspecified).ToProto(), From = Day(from), To = Day(to),
                Granularity = Granularity(parse.GetValue(by)), Top = Top(parse.GetValue(top)),
            };
            var server = ServerCommands.RequireServer(source, "usage");
            var history = await server.Usage.GetHistoryAsync(request, cancel);
            UsageRenderers.History(context.Output, history, transport?.ToText(), context.TerminalWidth, json);
        }));
        command.Subcommands.Add(Load(context, port));
        return command;
    }

    private static Command Load(CommandContext context, Argument<string?> port)
    {
        var file = new Argument<string>("file") { Description = $"CSV with a header ({string.Join(',', UsageCsv.Columns)}; executable and reachable optional) or NDJSON with the same fields, by extension (.csv, .ndjson, .jsonl) or content." };
        var name = new Option<string?>("--source") { Description = "Names the load in the server's log. Default: the file's name." };
        var command = new Command("load", string.Create(CultureInfo.InvariantCulture, $"Load past observations (admin role): every row is checked before anything is sent, and the server loads all or nothing; at most {UsageFile.MaxRows:N0} rows per file."))
        {
            file, name,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            if (parse.GetValue(port) is { } stray) throw new UsageException($"usage load takes a file, not a port (got \"{stray}\" before load)");
            var server = ServerCommands.RequireServer(source, "usage load");
            var usage = new UsageFile(parse.GetValue(file)!);
            if (!File.Exists(usage.Path)) throw new UsageException($"no such file: {usage.Path}");
            var label = Path.GetFileName(usage.Path);
            var progress = new ProgressLine(context.Progress);
            var check = usage.Check(rows => progress.Show(string.Create(CultureInfo.InvariantCulture, $"{label}: read {rows:N0} rows")), cancel);
            progress.Clear();
            if (check.TooManyRows)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{label} has more than {UsageFile.MaxRows:N0} rows, the most one load takes: split the file (by year, say) and load each part"));
            }

            if (check.Errors.Count > 0)
            {
                var more = check.Errors.Count >= UsageFile.MaxErrors ? $" (stopped reading after {UsageFile.MaxErrors})" : "";
                throw new InvalidDataException($"{label}: {check.Errors.Count} bad row(s){more}; nothing was sent:\n  {string.Join("\n  ", check.Errors)}");
            }

            if (check.Rows == 0) throw new InvalidDataException($"{label} has no rows to load");
            var messages = usage.Messages(parse.GetValue(name) ?? label, sent => progress.Show(string.Create(CultureInfo.InvariantCulture, $"{label}: sent {sent:N0} of {check.Rows:N0} rows")));
            LoadUsageHistoryResponse loaded;
            try
            {
                loaded = await server.Usage.LoadAsync(messages, cancel);
            }
            catch (SourceException e) when (e.IsUsage)
            {
                // The server refused rows of the file: a bad file (exit 1) like one refused here, not a bad command line.
                throw new SourceException(e.Message, isUsage: false, e);
            }
            finally
            {
                progress.Clear();
            }

            UsageRenderers.Loaded(context.Output, label, loaded, json);
        }));
        return command;
    }

    private const int MaxTop = 20;

    private static string Day(DateOnly? day) => day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";

    private static uint Top(int? top) => top switch
    {
        null => 0,
        >= 1 and <= MaxTop => (uint)top.Value,
        _ => throw new UsageException($"--top must be 1-{MaxTop}, got {top}"),
    };

    private static UsageGranularity Granularity(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "day" => UsageGranularity.Day,
        "week" => UsageGranularity.Week,
        "month" => UsageGranularity.Month,
        _ => throw new UsageException($"--by must be day, week or month, got \"{text}\""),
    };
}
