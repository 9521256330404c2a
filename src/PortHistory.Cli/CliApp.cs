using System.CommandLine;
using PortHistory.Cli.Commands;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Formats;

namespace PortHistory.Cli;

/// <summary>The porthistory command line: verbs, global options, where answers come from, and how errors end.</summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("porthistory: what a network port is for, what it was for, and what runs on it.")
        {
            CliOptions.Editions,
            CliOptions.Edition,
            CliOptions.Server,
            CliOptions.Token,
            CliOptions.AsJson,
        };

        var context = new CommandContext(output, error);
        foreach (var command in RegistryCommands.Build(context).Concat(ServerCommands.Build(context))) root.Subcommands.Add(command);

        var parse = root.Parse(args);
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}

/// <summary>What a verb needs to run: the writers, and a way to open the right source for the options given.</summary>
public sealed class CommandContext(TextWriter output, TextWriter error)
{
    public TextWriter Output { get; } = output;
    public TextWriter Error { get; } = error;

    /// <summary>Runs a verb, turning the errors users can cause into a message and an exit code instead of a stack trace.</summary>
    public async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<IRegistrySource?, bool, Task> verb, bool needsSource = true)
    {
        try
        {
            var json = parse.GetValue(CliOptions.AsJson);
            if (!needsSource)
            {
                await verb(null, json);
                return CliApp.Ok;
            }

            await using var source = await OpenSourceAsync(parse, cancellationToken);
            await verb(source, json);
            return CliApp.Ok;
        }
        catch (UsageException e)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return CliApp.Usage;
        }
        catch (EditionFormatException e)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return CliApp.Failed;
        }
        catch (SourceException e)
        {
            await Error.WriteLineAsync($"error: {e.Message}");
            return e.IsUsage ? CliApp.Usage : CliApp.Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Error.WriteLineAsync("cancelled");
            return CliApp.Failed;
        }
    }

    /// <summary>--server first, then --editions/--edition, then $PORTHISTORY_SERVER, then $PORTHISTORY_EDITIONS.</summary>
    private static Task<IRegistrySource> OpenSourceAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var token = parse.GetValue(CliOptions.Token) ?? Environment.GetEnvironmentVariable("PORTHISTORY_TOKEN");
        if (parse.GetValue(CliOptions.Server) is { Length: > 0 } server) return Task.FromResult(ServerSourceFactory.Open(server, token));

        var directories = parse.GetValue(CliOptions.Editions) ?? [];
        var files = parse.GetValue(CliOptions.Edition) ?? [];
        if (directories.Length > 0 || files.Length > 0)
        {
            return Task.FromResult<IRegistrySource>(OfflineRegistrySource.Load(directories, files));
        }

        if (Environment.GetEnvironmentVariable("PORTHISTORY_SERVER") is { Length: > 0 } fromEnvironment)
        {
            return Task.FromResult(ServerSourceFactory.Open(fromEnvironment, token));
        }

        if (Environment.GetEnvironmentVariable("PORTHISTORY_EDITIONS") is { Length: > 0 } editions)
        {
            return Task.FromResult<IRegistrySource>(OfflineRegistrySource.Load([editions], []));
        }

        throw new UsageException("no editions to answer from: pass --editions DIR or --edition FILE (offline), or --server URL");
    }
}

/// <summary>An answer the source could not give: server unreachable, refused, or the request was invalid there.</summary>
public sealed class SourceException(string message, bool isUsage, Exception? inner = null) : Exception(message, inner)
{
    public bool IsUsage { get; } = isUsage;
}
