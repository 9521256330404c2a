using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace PortHistory.Observations;

/// <summary>How a process was matched to registry services.</summary>
public enum MatchSource
{
    /// <summary>The curated table names the process.</summary>
    Table,

    /// <summary>Not in the table: the process name is itself a registry service name ("rsync", "git").</summary>
    SameName,

    /// <summary>Not in the table: the name without a daemon's trailing "d" is a service name ("ircd" → "irc").</summary>
    DaemonSuffix,

    /// <summary>Nothing is known about the process.</summary>
    Unknown,
}

/// <summary>Which part of a process's identity a match was made on, the most specific first.</summary>
public enum MatchedOn
{
    /// <summary>The systemd service the process belongs to ("rpc-statd.service").</summary>
    Unit,

    /// <summary>What a runtime runs ("zookeeper.jar", "org.apache.catalina.startup.Bootstrap").</summary>
    Program,

    /// <summary>The process name (or the executable's file name).</summary>
    Process,
}

/// <summary>What is known of a process: its name and executable, what a runtime runs, and its systemd service.</summary>
public sealed record ProcessIdentity(string Name, string? Executable = null, string? Program = null, string? SystemdUnit = null);

/// <summary>The services a process is taken to provide, and why.</summary>
/// <param name="Process">The name matched: the unit, the program (as looked up) or the process name.</param>
public sealed record ServiceMatch(string Process, IReadOnlyList<string> Services, MatchSource Source, string? Reason, MatchedOn On = MatchedOn.Process)
{
    /// <summary>Whether the process provides one of the given service names (case-insensitive).</summary>
    public bool Provides(IEnumerable<string> services) => Services.Intersect(services, StringComparer.OrdinalIgnoreCase).Any();
}

/// <summary>
/// The curated, editable process → service table (process-services.json; a copy can replace it), with fallbacks for
/// processes it does not name. An entry names a systemd unit, a program or a process; a process is looked up by its
/// unit, then its program, then its name (the most specific first), and only when the table knows none of them by
/// the same order of fallbacks.
/// </summary>
public sealed partial class ProcessServiceMap
{
    // Before Default: static fields are set in the order they are written, and loading the default table uses this.
    private static readonly HashSet<string> ProgramExtensions = [".jar", ".war", ".py", ".pyz", ".js", ".mjs", ".cjs", ".dll", ".exe", ".rb", ".pl", ".php"];

    private readonly FrozenDictionary<string, Entry> _units;
    private readonly FrozenDictionary<string, Entry> _programs;
    private readonly FrozenDictionary<string, Entry> _processes;

    private ProcessServiceMap(IReadOnlyList<Entry> entries)
    {
        _units = Index(entries.Where(e => e.Unit is not null), e => e.Unit!);
        _programs = Index(entries.Where(e => e.Program is not null), e => ProgramKeys(e.Program!).Last());
        _processes = Index(entries.Where(e => e.Process is not null), e => e.Process!);
    }

    public int Count => _units.Count + _programs.Count + _processes.Count;

    /// <summary>The table shipped with PortHistory.</summary>
    public static ProcessServiceMap Default { get; } = Load(typeof(ProcessServiceMap).Assembly.GetManifestResourceStream("PortHistory.Observations.process-services.json")!);

    public static ProcessServiceMap Load(Stream json)
    {
        var document = JsonSerializer.Deserialize<Document>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
                       ?? throw new InvalidDataException("the process-services table is empty");
        foreach (var entry in document.Processes)
        {
            var keys = new[] { entry.Process, entry.Program, entry.Unit }.Count(k => !string.IsNullOrWhiteSpace(k));
            if (keys != 1) throw new InvalidDataException("a process-services entry must name exactly one of \"process\", \"program\" or \"unit\"");
            if (entry.Services is null) throw new InvalidDataException($"the process-services entry for {entry.Process ?? entry.Program ?? entry.Unit} has no \"services\"");
        }

        return new ProcessServiceMap(document.Processes);
    }

    public static ProcessServiceMap LoadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    /// <summary>What a process known only by its name and executable provides.</summary>
    public ServiceMatch Match(string processName, string? executable, Func<string, bool> knownServices) =>
        Match(new ProcessIdentity(processName, executable), knownServices);

    /// <summary>
    /// What a process provides. <paramref name="knownServices"/> answers whether a name is a registry service name,
    /// for the fallbacks (a process named like a service is taken to be it).
    /// </summary>
    public ServiceMatch Match(ProcessIdentity process, Func<string, bool> knownServices)
    {
        var name = Normalize(process.Name, process.Executable);
        var unit = string.IsNullOrWhiteSpace(process.SystemdUnit) ? null : process.SystemdUnit.Trim().ToLowerInvariant();
        IReadOnlyList<string> programKeys = string.IsNullOrWhiteSpace(process.Program) ? [] : ProgramKeys(process.Program);

        if (unit is not null && UnitKeys(unit).Select(k => _units.GetValueOrDefault(k)).FirstOrDefault(e => e is not null) is { } byUnit)
        {
            return new ServiceMatch(unit, byUnit.Services, MatchSource.Table, byUnit.Reason, MatchedOn.Unit);
        }

        foreach (var key in programKeys)
        {
            if (_programs.TryGetValue(key, out var byProgram)) return new ServiceMatch(key, byProgram.Services, MatchSource.Table, byProgram.Reason, MatchedOn.Program);
        }

        if (_processes.TryGetValue(name, out var entry)) return new ServiceMatch(name, entry.Services, MatchSource.Table, entry.Reason);

        var guesses = new List<(string Name, MatchedOn On)>();
        if (unit is not null) guesses.Add((UnitKeys(unit).Last(), MatchedOn.Unit));
        if (programKeys.Count > 0) guesses.Add((programKeys[^1], MatchedOn.Program));
        guesses.Add((name, MatchedOn.Process));
        foreach (var (guess, on) in guesses)
        {
            if (knownServices(guess)) return new ServiceMatch(guess, [guess], MatchSource.SameName, $"{guess} is itself a registry service name", on);
            if (guess.Length > 2 && guess.EndsWith('d') && knownServices(guess[..^1]))
            {
                return new ServiceMatch(guess, [guess[..^1]], MatchSource.DaemonSuffix, $"{guess} is taken to be the {guess[..^1]} daemon", on);
            }
        }

        return new ServiceMatch(name, [], MatchSource.Unknown, null);
    }

    /// <summary>The name to look up: the process name, else the executable's file name; lower case.</summary>
    public static string Normalize(string processName, string? executable)
    {
        var name = processName.Trim();
        if (name.Length == 0 && !string.IsNullOrWhiteSpace(executable)) name = Path.GetFileName(executable.Trim());
        return name.ToLowerInvariant();
    }

    /// <summary>
    /// A program's names to look up, the most exact first, lower case: as sent, without a known extension, and without
    /// a version ("kafka_2.13-3.6.0.jar" → "kafka_2.13-3.6.0.jar", "kafka_2.13-3.6.0", "kafka"). Java classes and
    /// Python modules ("kafka.Kafka", "http.server") have no extension to lose.
    /// </summary>
    public static IReadOnlyList<string> ProgramKeys(string program)
    {
        var keys = new List<string> { program.Trim().ToLowerInvariant() };
        var extension = Path.GetExtension(keys[0]);
        if (ProgramExtensions.Contains(extension)) keys.Add(keys[0][..^extension.Length]);
        if (VersionSuffix().Match(keys[^1]) is { Success: true } versioned) keys.Add(keys[^1][..versioned.Index]);
        return [.. keys.Distinct()];
    }

    /// <summary>"getty@tty1.service" → itself, then its template "getty@.service", then "getty" (for the fallbacks).</summary>
    private static IEnumerable<string> UnitKeys(string unit)
    {
        yield return unit;
        var stem = unit.EndsWith(".service", StringComparison.Ordinal) ? unit[..^".service".Length] : unit;
        var at = stem.IndexOf('@');
        if (at >= 0)
        {
            yield return stem[..(at + 1)] + ".service";
            stem = stem[..at];
        }

        yield return stem;
    }

    /// <summary>"-3.6.0", "_2.13-3.6.0", "-v1.2": a separator, then a digit (after an optional "v"), to the end.</summary>
    [GeneratedRegex(@"[-_]v?[0-9].*$")]
    private static partial Regex VersionSuffix();

    private static FrozenDictionary<string, Entry> Index(IEnumerable<Entry> entries, Func<Entry, string> key) =>
        entries.GroupBy(e => key(e).Trim().ToLowerInvariant()).ToFrozenDictionary(g => g.Key, g => g.Last());

    private sealed record Document([property: JsonPropertyName("processes")] List<Entry> Processes);

    private sealed record Entry(
        [property: JsonPropertyName("process")] string? Process,
        [property: JsonPropertyName("program")] string? Program,
        [property: JsonPropertyName("unit")] string? Unit,
        [property: JsonPropertyName("services")] string[] Services,
        [property: JsonPropertyName("reason")] string? Reason);
}
