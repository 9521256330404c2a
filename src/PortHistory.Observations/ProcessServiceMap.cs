using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

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

/// <summary>The services a process is taken to provide, and why.</summary>
public sealed record ServiceMatch(string Process, IReadOnlyList<string> Services, MatchSource Source, string? Reason)
{
    /// <summary>Whether the process provides one of the given service names (case-insensitive).</summary>
    public bool Provides(IEnumerable<string> services) => Services.Intersect(services, StringComparer.OrdinalIgnoreCase).Any();
}

/// <summary>
/// The curated, editable process → service table (process-services.json; a copy can replace it), with fallbacks for
/// processes it does not name.
/// </summary>
public sealed class ProcessServiceMap
{
    private readonly FrozenDictionary<string, Entry> _entries;

    private ProcessServiceMap(IEnumerable<Entry> entries) =>
        _entries = entries.GroupBy(e => e.Process, StringComparer.OrdinalIgnoreCase).ToFrozenDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase);

    public int Count => _entries.Count;

    /// <summary>The table shipped with PortHistory.</summary>
    public static ProcessServiceMap Default { get; } = Load(typeof(ProcessServiceMap).Assembly.GetManifestResourceStream("PortHistory.Observations.process-services.json")!);

    public static ProcessServiceMap Load(Stream json)
    {
        var document = JsonSerializer.Deserialize<Document>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
                       ?? throw new InvalidDataException("the process-services table is empty");
        foreach (var entry in document.Processes)
        {
            if (string.IsNullOrWhiteSpace(entry.Process)) throw new InvalidDataException("a process-services entry has no \"process\"");
        }

        return new ProcessServiceMap(document.Processes);
    }

    public static ProcessServiceMap LoadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    /// <summary>
    /// What a process provides. <paramref name="knownServices"/> answers whether a name is a registry service name,
    /// for the fallbacks (a process named like a service is taken to be it).
    /// </summary>
    public ServiceMatch Match(string processName, string? executable, Func<string, bool> knownServices)
    {
        var name = Normalize(processName, executable);
        if (_entries.TryGetValue(name, out var entry)) return new ServiceMatch(name, entry.Services, MatchSource.Table, entry.Reason);
        if (knownServices(name)) return new ServiceMatch(name, [name], MatchSource.SameName, $"{name} is itself a registry service name");
        if (name.Length > 2 && name.EndsWith('d') && knownServices(name[..^1]))
        {
            return new ServiceMatch(name, [name[..^1]], MatchSource.DaemonSuffix, $"{name} is taken to be the {name[..^1]} daemon");
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

    private sealed record Document([property: JsonPropertyName("processes")] List<Entry> Processes);

    private sealed record Entry(
        [property: JsonPropertyName("process")] string Process,
        [property: JsonPropertyName("services")] string[] Services,
        [property: JsonPropertyName("reason")] string? Reason);
}
