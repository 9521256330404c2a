using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace PortHistory.Agent;

/// <summary>
/// The agent's settings file (/etc/porthistory/agent.conf): one "key = value" per line, the key being a long option's
/// name without "--" (server, token-file, host-ref, interval, batch-size, proc-root, ...); blank lines and lines whose
/// first non-blank character is '#' are ignored. Every value-taking option of the command is a valid key, so a new
/// option needs no change here. Options given on the command line win over the file, and the file wins over
/// environment variables and defaults: its settings are added to the command line as "--key=value".
/// </summary>
public sealed partial class AgentConfigFile
{
    public const string DefaultPath = "/etc/porthistory/agent.conf";

    /// <summary>A settings file is a few lines; anything larger is not one.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Recursive, so that every subcommand reads the same file.</summary>
    public static readonly Option<string?> Option = new("--config")
    {
        Recursive = true,
        Description = $"Settings file (key = value lines named like these options). Default: {DefaultPath}, if it exists.",
    };

    /// <param name="Line">1-based, for messages.</param>
    public sealed record Entry(string Key, string Value, int Line);

    private AgentConfigFile(string path, IReadOnlyList<Entry> entries) => (Path, Entries) = (path, entries);

    public string Path { get; }

    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>
    /// Parses the command line with the settings file applied: --config's file if given (it must exist), else
    /// <paramref name="defaultPath"/> if it exists. Help and version are parsed without it.
    /// <c>Applied</c> holds the file's settings that were used (not overridden on the command line), for <see cref="Locate"/>.
    /// </summary>
    public static (ParseResult Parse, AgentConfigFile? Applied) ParseCommandLine(RootCommand root, IReadOnlyList<string> args, string defaultPath = DefaultPath)
    {
        var commandLine = root.Parse(args);
        // Help and version do something else than the command; a command line with errors still gets the file, which
        // may supply what the error is about (a required option).
        if (commandLine.Errors.Count == 0 && commandLine.Action != commandLine.CommandResult.Command.Action) return (commandLine, null);

        var explicitPath = commandLine.GetValue(Option);
        var file = Read(explicitPath ?? defaultPath, required: explicitPath is not null);
        if (file is null) return (commandLine, null);

        var known = SettableOptions(AllCommands(root).SelectMany(command => command.Options)).Keys.ToHashSet(StringComparer.Ordinal);
        var applicable = SettableOptions(ApplicableOptions(commandLine));
        var added = new List<string>();
        var applied = new List<Entry>();
        foreach (var entry in file.Entries)
        {
            if (!known.Contains(entry.Key))
            {
                throw new UsageException($"{file.Path}:{entry.Line}: unknown setting \"{entry.Key}\" (settings are the long options of --help, without \"--\")");
            }

            // A setting of another subcommand (a file shared by all of them) is not an error; it just does not apply here.
            if (!applicable.TryGetValue(entry.Key, out var option)) continue;
            if (commandLine.GetResult(option) is { Implicit: false }) continue;
            // One token, so that a value starting with '-' or '@' is not taken for an option or a response file.
            added.Add($"--{entry.Key}={entry.Value}");
            applied.Add(entry);
        }

        if (added.Count == 0) return (commandLine, null);
        var combined = args.ToList();
        var endOfOptions = combined.IndexOf("--");
        combined.InsertRange(endOfOptions < 0 ? combined.Count : endOfOptions, added);
        return (root.Parse(combined), new AgentConfigFile(file.Path, applied));
    }

    /// <summary>The file, or null when it is the default one and does not exist; unreadable or malformed files are usage errors.</summary>
    public static AgentConfigFile? Read(string path, bool required)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (!stream.CanSeek || stream.Length > MaxBytes) throw new UsageException($"{path}: not a settings file (more than {MaxBytes} bytes, or not a regular file)");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (!required && e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--config: cannot read \"{path}\": {e.Message}");
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new UsageException($"{path}: not UTF-8 text");
        }

        return Parse(path, text);
    }

    /// <summary>The lines of a settings file; the first malformed one is a usage error naming the file and line.</summary>
    public static AgentConfigFile Parse(string path, string text)
    {
        var entries = new List<Entry>();
        var lines = text.TrimStart('\uFEFF').Split('\n');
        for (var number = 1; number <= lines.Length; number++)
        {
            var line = lines[number - 1].TrimEnd('\r').Trim(' ', '\t');
            if (line.Length == 0 || line[0] == '#') continue;

            string Where() => $"{path}:{number}";
            if (line.Any(c => char.IsControl(c) && c != '\t')) throw new UsageException($"{Where()}: control character in the line");
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0) throw new UsageException($"{Where()}: expected \"key = value\", got \"{line}\"");

            var key = line[..equals].Trim(' ', '\t');
            if (!KeyPattern().IsMatch(key)) throw new UsageException($"{Where()}: \"{key}\" is not a setting name (lower-case letters, digits and '-', e.g. proc-root)");
            var value = line[(equals + 1)..].Trim(' ', '\t');
            if (value.Length == 0) throw new UsageException($"{Where()}: {key} has no value");
            if (entries.Find(entry => entry.Key == key) is { } earlier) throw new UsageException($"{Where()}: {key} is already set on line {earlier.Line}");
            entries.Add(new Entry(key, value, number));
        }

        return new AgentConfigFile(path, entries);
    }

    /// <summary>Where the value of <paramref name="key"/> came from ("token-file (/etc/porthistory/agent.conf line 4)"); null when not from this file.</summary>
    public string? SourceOf(string key) =>
        Entries.FirstOrDefault(entry => entry.Key == key) is { } entry ? $"{key} ({Path} line {entry.Line})" : null;

    /// <summary>"path:line: message" when the message is about an option whose value came from this file.</summary>
    public string Locate(string message)
    {
        foreach (Match name in OptionNamePattern().Matches(message))
        {
            if (Entries.FirstOrDefault(entry => entry.Key == name.Groups[1].Value) is { } entry) return $"{Path}:{entry.Line}: {message}";
        }

        return message;
    }

    /// <summary>Options that take a value, by long name without "--"; help and version do something instead and --config names the file itself.</summary>
    private static Dictionary<string, Option> SettableOptions(IEnumerable<Option> options)
    {
        var byName = new Dictionary<string, Option>(StringComparer.Ordinal);
        foreach (var option in options.Where(o => o != Option && o.Action is null))
        {
            foreach (var name in option.Aliases.Append(option.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal)))
            {
                byName.TryAdd(name[2..], option);
            }
        }

        return byName;
    }

    private static IEnumerable<Command> AllCommands(Command command) => command.Subcommands.SelectMany(AllCommands).Prepend(command);

    /// <summary>The parsed command's own options and its parents' recursive ones.</summary>
    private static IEnumerable<Option> ApplicableOptions(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var options = command.Options.ToList();
        for (var parent = parse.CommandResult.Parent as System.CommandLine.Parsing.CommandResult; parent is not null;
             parent = parent.Parent as System.CommandLine.Parsing.CommandResult)
        {
            options.AddRange(parent.Command.Options.Where(o => o.Recursive));
        }

        return options;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("--([a-z0-9][a-z0-9-]*)")]
    private static partial Regex OptionNamePattern();
}
