using System.CommandLine;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;

namespace PortHistory.Cli.Commands;

/// <summary>`porthistory rebuild`: the server derives the whole history again from the originals it keeps.</summary>
public static class RebuildCommand
{
    public static Command Build(CommandContext context)
    {
        var command = new Command("rebuild",
            "Server, admin: parse every stored original again, report the editions that parse differently now, and derive the whole history again from the originals.");
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = ServerCommands.RequireServer(source, "rebuild");
            var result = await server.RebuildHistoryAsync(progress => EditionRenderers.RebuildProgress(context.Output, progress, json), cancel);
            if (result.Generation == 0) throw new SourceException("the history was not derived again: an original could not be read or parsed", isUsage: false);
        }));
        return command;
    }
}
