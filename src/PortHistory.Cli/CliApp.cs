using System.CommandLine;
using System.CommandLine.Invocation;
using PortHistory.Cli.Commands;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Formats;
using Spectre.Console;

namespace PortHistory.Cli;

/// <summary>The porthistory command line: verbs, global options, where answers come from, and how errors end.</summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    /// <param name="terminal">The interactive terminal output goes to, for live progress; null when output is a file, a pipe or a test.</param>
    /// <param name="progress">Where progress lines go when stderr is a terminal; null when it is not.</param>
    /// <param name="loadEditions">Reads edition directories and files for offline answers; <see cref="OfflineRegistrySource.Load"/> unless given.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default,
        IAnsiConsole? terminal = null, TextWriter? progress = null, OfflineEditionLoader? loadEditions = null)
    {
        var root = new RootCommand("porthistory: what a network port is for, what it was for, and what runs on it.")
        {
            CliOptions.Editions,
            CliOptions.Edition,
            CliOptions.Server,
            CliOptions.Token,
            CliOptions.AsJson,
        };

        var context = new CommandContext(output, error, terminal, progress, loadEditions);
        foreach (var command in RegistryCommands.Build(context).Concat(ServerCommands.Build(context)).Concat(HostCommands.Build(context)).Concat(UsageCommands.Build(context)))
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration { Output = output, Error = error };
        if (parse.Action is not ParseErrorAction parseError) return await parse.InvokeAsync(invocation, cancellationToken);

        // An unknown option, a missing argument or a stray word is bad usage like any other: the errors (and any
        // "did you mean") on stderr, exit code 2, and stdout left empty rather than filled with help text.
        parseError.ShowHelp = false;
        await parse.InvokeAsync(new InvocationConfiguration { Output = error, Error = error }, cancellationToken);
        await error.WriteLineAsync($"Run '{string.Join(' ', CommandPath(parse.CommandResult.Command, root))} --help' for usage.");
        return Usage;
    }

    private static IEnumerable<string> CommandPath(Command command, RootCommand root)
    {
        var names = new Stack<string>();
        for (var at = command; at is not null && at != root; at = at.Parents.OfType<Command>().FirstOrDefault()) names.Push(at.Name);
        return ["porthistory", .. names];
    }
}

/// <summary>What a verb needs to run: the writers, and a way to open the right source for the options given.</summary>
public sealed class CommandContext(TextWriter output, TextWriter error, IAnsiConsole? terminal = null, TextWriter? progress = null,
    OfflineEditionLoader? loadEditions = null)
{
    private readonly OfflineEditionLoader _loadEditions = loadEditions ?? OfflineRegistrySource.Load;

    public TextWriter Output { get; } = output;
    public TextWriter Error { get; } = error;

    /// <summary>stderr when it is a terminal, for progress that would only clutter a log; else null.</summary>
    public TextWriter? Progress { get; } = progress;

    /// <summary>The terminal's width in columns, or null when output is no terminal.</summary>
    public int? TerminalWidth => terminal?.Profile.Width;

    /// <summary>How `import` shows progress: NDJSON events for --json, a live bar on a terminal, else plain lines.</summary>
    public IImportReporter ImportReporter(bool json) => json
        ? new JsonImportReporter(Output)
        : terminal is not null ? new LiveImportReporter(terminal, Output) : new PlainImportReporter(Output);

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
        catch (InvalidDataException e)
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
    private Task<IRegistrySource> OpenSourceAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var token = parse.GetValue(CliOptions.Token) ?? Environment.GetEnvironmentVariable("PORTHISTORY_TOKEN");
        if (parse.GetValue(CliOptions.Server) is { Length: > 0 } server) return Task.FromResult(ServerSourceFactory.Open(server, token));

        var directories = parse.GetValue(CliOptions.Editions) ?? [];
        var files = parse.GetValue(CliOptions.Edition) ?? [];
        if (directories.Length > 0 || files.Length > 0)
        {
            return Task.FromResult<IRegistrySource>(_loadEditions(directories, files));
        }

        if (Environment.GetEnvironmentVariable("PORTHISTORY_SERVER") is { Length: > 0 } fromEnvironment)
        {
            return Task.FromResult(ServerSourceFactory.Open(fromEnvironment, token));
        }

        if (Environment.GetEnvironmentVariable("PORTHISTORY_EDITIONS") is { Length: > 0 } editions)
        {
            return Task.FromResult<IRegistrySource>(_loadEditions([editions], []));
        }

        throw new UsageException("no editions to answer from: pass --editions DIR or --edition FILE (offline), or --server URL");
    }
}

/// <summary>An answer the source could not give: server unreachable, refused, or the request was invalid there.</summary>
public sealed class SourceException(string message, bool isUsage, Exception? inner = null) : Exception(message, inner)
{
    public bool IsUsage { get; } = isUsage;
}
