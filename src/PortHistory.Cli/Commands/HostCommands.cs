using System.CommandLine;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Commands;

/// <summary>The reporting hosts (admin role): the fleet listing, one host's sockets, retiring a host.</summary>
public static class HostCommands
{
    public static IEnumerable<Command> Build(CommandContext context)
    {
        yield return Hosts(context);
        yield return Host(context);
    }

    private static Command Hosts(CommandContext context)
    {
        var state = new Option<string?>("--state") { Description = "Only hosts in this state: online, stale or retired." };
        var group = new Option<string?>("--group") { Description = "Only hosts reporting in this host group." };
        var command = new Command("hosts", "The reporting hosts: state (online, stale, retired), group, last heard, sockets, how they report.") { state, group };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "hosts");
            await HostRenderers.HostsAsync(context.Output, server.Hosts.ListAsync(State(parse.GetValue(state)), parse.GetValue(group), cancel), json);
        }));

        var name = new Argument<string>("host-ref") { Description = "The host's host_ref." };
        var reason = new Option<string?>("--reason") { Description = "Why, kept with the retirement and in its watch event." };
        var retire = new Command("retire", "Retire a host now: its sockets are removed, its credentials revoked.") { name, reason };
        retire.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "hosts retire");
            HostRenderers.Retired(context.Output, await server.Hosts.RetireAsync(parse.GetValue(name)!, parse.GetValue(reason) ?? "", cancel), json);
        }));
        command.Subcommands.Add(retire);
        return command;
    }

    private static Command Host(CommandContext context)
    {
        var name = new Argument<string>("host-ref") { Description = "The host's host_ref (see porthistory hosts)." };
        var command = new Command("host", "One reporting host: its state, how it reports, and the sockets it listens on now with since when.") { name };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "host");
            HostRenderers.Host(context.Output, await server.Hosts.GetAsync(parse.GetValue(name)!, cancel), json);
        }));
        return command;
    }

    private static HostLiveness State(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null => HostLiveness.Unspecified,
        "online" => HostLiveness.Online,
        "stale" => HostLiveness.Stale,
        "retired" => HostLiveness.Retired,
        _ => throw new UsageException($"--state must be online, stale or retired, got \"{text}\""),
    };
}
