using System.CommandLine;
using PortHistory.Cli.Expectations;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;

namespace PortHistory.Cli.Commands;

/// <summary>`expect`: the fleet's expectations (admin role): add, remove, list, and a file kept in git to export and import.</summary>
public static class ExpectationCommands
{
    public static Command Build(CommandContext context) =>
        new("expect", "Fleet expectations (admin role): what is meant to run on a port and transport, whatever the registry says.")
        {
            Add(context), Remove(context), List(context), Export(context), Import(context),
        };

    private static Argument<string> Where() => new("port/transport") { Description = "The port and transport, e.g. 776/udp." };

    private static Argument<string> Process() =>
        new("process") { Description = "What is expected there: a process name (rpc.statd), a program (zookeeper.jar), a systemd unit or a service name (ssh)." };

    private static Option<string?> Group() => new("--group") { Description = "Only for the hosts of this host group (default: every host)." };

    private static Command Add(CommandContext context)
    {
        var (where, process, group) = (Where(), Process(), Group());
        var note = new Option<string?>("--note") { Description = "Why it is expected, shown in the verdicts' reasons." };
        var command = new Command("add", "Add an expectation (or change its note).") { where, process, group, note };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "expect add");
            var (port, transport) = ExpectationFile.ParseWhere(parse.GetValue(where)!);
            var (stored, created) = await server.Administration.SetExpectationAsync(
                new ExpectationView(port, transport, parse.GetValue(process)!, parse.GetValue(group), parse.GetValue(note)), cancel);
            ExpectationRenderers.Set(context.Output, stored, created, json);
        }));
        return command;
    }

    private static Command Remove(CommandContext context)
    {
        var (where, process, group) = (Where(), Process(), Group());
        var command = new Command("remove", "Remove an expectation.") { where, process, group };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "expect remove");
            var (port, transport) = ExpectationFile.ParseWhere(parse.GetValue(where)!);
            var removed = await server.Administration.RemoveExpectationAsync(new ExpectationView(port, transport, parse.GetValue(process)!, parse.GetValue(group), null), cancel);
            ExpectationRenderers.Removed(context.Output, removed, json);
        }));
        return command;
    }

    private static Command List(CommandContext context)
    {
        var command = new Command("list", "List the expectations, in port order.");
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "expect list");
            ExpectationRenderers.List(context.Output, await server.Administration.ListExpectationsAsync(cancel), json);
        }));
        return command;
    }

    private static Command Export(CommandContext context)
    {
        var file = new Argument<string>("file") { Description = "The expectations file to write (\"-\": standard output)." };
        var command = new Command("export", "Write the expectations to a file to keep in git.") { file };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, _) =>
        {
            var server = ServerCommands.RequireServer(source, "expect export");
            var expectations = await server.Administration.ListExpectationsAsync(cancel);
            var text = ExpectationFile.Write(expectations);
            var path = parse.GetValue(file)!;
            if (path == "-")
            {
                await context.Output.WriteAsync(text);
                return;
            }

            await File.WriteAllTextAsync(path, text, cancel);
            await context.Output.WriteLineAsync($"{expectations.Count} expectation(s) written to {path}");
        }));
        return command;
    }

    private static Command Import(CommandContext context)
    {
        var file = new Argument<string>("file") { Description = "An expectations file (as `expect export` writes it)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show what would change." };
        var command = new Command("import", "Replace the server's expectations with a file's, all at once, and show what changed.") { file, dryRun };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "expect import");
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new UsageException($"no such file: {path}");
            var expectations = ExpectationFile.Parse(await File.ReadAllTextAsync(path, cancel), Path.GetFileName(path));
            ExpectationRenderers.Changes(context.Output, await server.Administration.ReplaceExpectationsAsync(expectations, parse.GetValue(dryRun), cancel), json);
        }));
        return command;
    }
}
