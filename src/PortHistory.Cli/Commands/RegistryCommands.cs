using System.CommandLine;
using System.Text.Json;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Commands;

/// <summary>The registry-history verbs: edition inspect, editions, timeline, port, service, diff, ports.</summary>
public static class RegistryCommands
{
    public static IEnumerable<Command> Build(CommandContext context)
    {
        yield return Edition(context);
        yield return Editions(context);
        yield return Timeline(context);
        yield return Port(context);
        yield return Service(context);
        yield return Diff(context);
        yield return Ports(context);
    }

    private static Command Edition(CommandContext context)
    {
        var file = new Argument<string>("file") { Description = "Edition file to read." };
        var format = new Option<string?>("--format") { Description = "rfc, iana-text, iana-xml, iana-csv, services or nmap-services (default: detected)." };
        var date = new Option<string?>("--date") { Description = "Effective date (yyyy-MM-dd) for formats without one (CSV, local files)." };
        var inspect = new Command("inspect", "Parse one edition file and show its format, date, record counts and warnings.") { file, format, date };
        inspect.SetAction((parse, cancel) => context.RunAsync(parse, cancel, (_, json) =>
        {
            var formatText = parse.GetValue(format);
            EditionFileFormat? chosen = null;
            if (formatText is not null)
            {
                if (!EditionFileFormats.TryParse(formatText, out var f)) throw new UsageException($"unknown format \"{formatText}\"");
                chosen = f;
            }

            var edition = EditionReader.ReadFile(parse.GetValue(file)!, new EditionReadOptions
            {
                Format = chosen,
                EffectiveDate = CliOptions.ParseDate(parse.GetValue(date), "--date"),
            });
            Renderers.Inspect(context.Output, edition, json);
            return Task.CompletedTask;
        }, needsSource: false));

        return new Command("edition", "Work with a single edition file.") { inspect };
    }

    private static Command Editions(CommandContext context)
    {
        var command = new Command("editions",
            "List the editions the history is built from, oldest first; from a server also where each came from (URL or git commit, when) and how many entries it changed.")
        {
            EditionExport(context),
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            if (source is ServerRegistrySource server) EditionRenderers.Editions(context.Output, await server.ListEditionSummariesAsync(cancel), json);
            else Renderers.Editions(context.Output, await source!.ListEditionsAsync(cancel), json);
        }));
        return command;
    }

    private static Command EditionExport(CommandContext context)
    {
        var id = new Argument<string>("id") { Description = "Edition id (from porthistory editions)." };
        var to = new Option<string?>("--output", "-o") { Description = "Write the file here (default: standard output)." };
        var command = new Command("export", "Server: an edition's original file exactly as it was received (checked against its sha256).") { id, to };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, _) =>
        {
            var server = ServerCommands.RequireServer(source, "editions export");
            if (parse.GetValue(to) is { } path)
            {
                var partial = path + ".partial";
                await using (var file = File.Create(partial)) await server.ExportEditionAsync(parse.GetValue(id)!, file, cancel);
                File.Move(partial, path, overwrite: true);
                return;
            }

            await context.Output.FlushAsync(cancel);
            using var buffer = new MemoryStream();
            await server.ExportEditionAsync(parse.GetValue(id)!, buffer, cancel);
            // Bytes as they are: through the writer's stream when it has one (a console), else as Latin-1 text, one char per byte.
            if (context.Output is StreamWriter { BaseStream: { } stream })
            {
                buffer.Position = 0;
                await buffer.CopyToAsync(stream, cancel);
                await stream.FlushAsync(cancel);
            }
            else
            {
                await context.Output.WriteAsync(System.Text.Encoding.Latin1.GetString(buffer.ToArray()));
            }
        }));
        return command;
    }

    private static Command Timeline(CommandContext context)
    {
        var port = new Argument<string>("port") { Description = "Port number 0-65535." };
        var command = new Command("timeline", "Every version of a port's assignment, per transport, with the editions it held in and what changed.")
        {
            port, CliOptions.Transport,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var number = CliOptions.ParsePort(parse.GetValue(port));
            var timelines = await source!.GetTimelinesAsync(number, CliOptions.ParseTransport(parse.GetValue(CliOptions.Transport)), cancel);
            Renderers.Timelines(context.Output, number, timelines, json);
        }));
        return command;
    }

    private static Command Port(CommandContext context)
    {
        var port = new Argument<string>("port") { Description = "Port number 0-65535." };
        var command = new Command("port", "What held a port, per transport, in the newest edition or the one in effect on a date.")
        {
            port, CliOptions.Transport, CliOptions.AsOf,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var answer = await source!.GetPortAsync(
                CliOptions.ParsePort(parse.GetValue(port)),
                CliOptions.ParseTransport(parse.GetValue(CliOptions.Transport)),
                CliOptions.ParseDate(parse.GetValue(CliOptions.AsOf), "--as-of"),
                cancel);
            Renderers.Port(context.Output, answer, json);
        }));
        return command;
    }

    private static Command Service(CommandContext context)
    {
        var name = new Argument<string>("name") { Description = "Service name or alias (case-insensitive)." };
        var command = new Command("service", "Every port, transport and period a service name (or alias) held, and its rename chain.") { name };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var text = parse.GetValue(name)!.Trim();
            if (text.Length == 0) throw new UsageException("service name must not be empty");
            Renderers.Service(context.Output, await source!.FindServiceAsync(text, cancel), json);
        }));
        return command;
    }

    private static Command Diff(CommandContext context)
    {
        var from = new Argument<string>("edition-a") { Description = "Older edition: id, date (the edition in effect then) or file." };
        var to = new Argument<string>("edition-b") { Description = "Newer edition: id, date or file." };
        var ports = new Option<string?>("--ports") { Description = "Only this port range, e.g. 0-1023." };
        var command = new Command("diff", "What changed between two editions, per port range and transport.") { from, to, ports };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var diff = await source!.DiffAsync(parse.GetValue(from)!, parse.GetValue(to)!, CliOptions.ParseRange(parse.GetValue(ports), "--ports"), cancel);
            Renderers.Diff(context.Output, diff, json);
        }));
        return command;
    }

    private static Command Ports(CommandContext context)
    {
        var range = new Option<string?>("--range") { Description = "Port range (default 0-65535)." };
        var status = new Option<string?>("--status") { Description = "Only ports whose primary record has this status: assigned, reserved, unassigned, de-assigned, conventional." };
        var command = new Command("ports", "Every (port, transport) in a range and what held it: the bulk export.")
        {
            range, status, CliOptions.AsOf, CliOptions.Transport,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var rows = source!.ListPortsAsync(
                CliOptions.ParseRange(parse.GetValue(range), "--range") ?? PortSpan.All,
                CliOptions.ParseDate(parse.GetValue(CliOptions.AsOf), "--as-of"),
                CliOptions.ParseStatus(parse.GetValue(status)),
                CliOptions.ParseTransport(parse.GetValue(CliOptions.Transport)),
                cancel);
            await Renderers.PortsAsync(context.Output, rows, json, cancel);
        }));
        return command;
    }
}
