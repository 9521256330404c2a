using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;

namespace PortHistory.Testing;

/// <summary>
/// The real registry editions kept beside the repository in ../shared/data/registry (never copied into it).
/// PORTHISTORY_REGISTRY_DATA overrides the location.
/// </summary>
public static partial class RegistryData
{
    private static readonly Lazy<string> DirectoryPath = new(Locate);
    private static readonly ConcurrentDictionary<string, RegistryEdition> Parsed = new();

    public static string Directory => DirectoryPath.Value;

    public static string PathOf(string fileName) => Path.Combine(Directory, fileName);

    public static IReadOnlyList<string> EditionFiles =>
    [
        "rfc0990.txt", "rfc1010.txt", "rfc1060.txt", "rfc1340.txt", "rfc1700.txt",
        "port-numbers_2004-01-08.txt", "port-numbers_2005-12-22.txt", "port-numbers_2006-11-13.txt", "port-numbers_2008-02-29.txt",
        "service-names-port-numbers_2013-02-18.xml", "service-names-port-numbers_2017-03-10.xml",
        "service-names-port-numbers_2024-04-30.xml", "service-names-port-numbers_2026-08-17.xml",
        "service-names-port-numbers_2017-02-24.csv", "service-names-port-numbers_2024-04-30.csv", "service-names-port-numbers_2026-04-24.csv",
    ];

    /// <summary>An edition parsed once per test process (parsing all sixteen takes a second or two).</summary>
    public static RegistryEdition Edition(string fileName) => Parsed.GetOrAdd(fileName, name => EditionReader.ReadFile(PathOf(name)));

    public static IReadOnlyList<RegistryEdition> AllEditions()
    {
        var editions = new RegistryEdition[EditionFiles.Count];
        Parallel.For(0, editions.Length, i => editions[i] = Edition(EditionFiles[i]));
        return editions;
    }

    public static byte[] Bytes(string fileName) => File.ReadAllBytes(PathOf(fileName));

    /// <summary>The last System Port (RFC 6335): <see cref="SystemPortsOf"/> keeps the records up to it.</summary>
    public const int LastSystemPort = 1023;

    /// <summary>
    /// A real IANA XML or CSV edition with only the records of System Ports (and those without a number), everything
    /// else byte for byte. For tests of how editions arrive (following, git history) rather than of what they say: an
    /// import of the whole file stages the 49,152 ports its unassigned ranges cover, this one about a thousand.
    /// </summary>
    public static byte[] SystemPortsOf(string fileName) => PortsOf(fileName, (first, _) => first <= LastSystemPort);

    /// <summary>
    /// A real IANA XML or CSV edition with only the records whose port range <paramref name="keep"/> takes (given its
    /// first and last port) and those without a number, everything else byte for byte.
    /// </summary>
    public static byte[] PortsOf(string fileName, Func<int, int, bool> keep)
    {
        var text = File.ReadAllText(PathOf(fileName), Encoding.UTF8);
        var kept = fileName.EndsWith(".xml", StringComparison.Ordinal)
            ? XmlRecord().Replace(text, record => XmlNumber().Match(record.Value) is { Success: true } number && !Kept(number.Groups[1].Value, keep) ? "" : record.Value)
            : string.Concat(CsvRecords(text).Where((record, i) => i == 0 || Kept(CsvSecondField(record), keep)));
        return Encoding.UTF8.GetBytes(kept);
    }

    /// <summary>
    /// A path to import the edition from: an IANA XML or CSV file as its System Ports, written into
    /// <paramref name="directory"/>; any other edition as it is.
    /// </summary>
    public static string SystemPortsPath(string fileName, string directory)
    {
        if (!fileName.EndsWith(".xml", StringComparison.Ordinal) && !fileName.EndsWith(".csv", StringComparison.Ordinal)) return PathOf(fileName);
        var path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, SystemPortsOf(fileName));
        return path;
    }

    /// <summary>A record without a port number (or with one that does not read as a number) is kept.</summary>
    private static bool Kept(string number, Func<int, int, bool> keep)
    {
        var bounds = number.Split('-');
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (!int.TryParse(bounds[0], culture, out var first)) return true;
        return keep(first, int.TryParse(bounds[^1], culture, out var last) ? last : first);
    }

    /// <summary>The records of a CSV file with their line ends: a newline inside quotes belongs to its field.</summary>
    private static IEnumerable<string> CsvRecords(string text)
    {
        var (start, quoted) = (0, false);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"') quoted = !quoted;
            else if (text[i] == '\n' && !quoted)
            {
                yield return text[start..(i + 1)];
                start = i + 1;
            }
        }

        if (start < text.Length) yield return text[start..];
    }

    /// <summary>The port number column of an IANA CSV record (its service name, before it, may be quoted).</summary>
    private static string CsvSecondField(string record)
    {
        var quoted = false;
        for (var i = 0; i < record.Length; i++)
        {
            if (record[i] == '"') quoted = !quoted;
            else if (record[i] == ',' && !quoted) return record[(i + 1)..].Split(',')[0];
        }

        return "";
    }

    [GeneratedRegex(@"<record(?: [^>]*)?>.*?</record>\s*", RegexOptions.Singleline)]
    private static partial Regex XmlRecord();

    [GeneratedRegex(@"<number>([0-9-]+)</number>")]
    private static partial Regex XmlNumber();

    /// <summary>The directory holding PortHistory.sln, found above the test binaries.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("PORTHISTORY_REGISTRY_DATA");
        if (!string.IsNullOrEmpty(configured)) return Existing(configured);
        return Existing(Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", "registry")));
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PortHistory.sln"))) return directory.FullName;
        }

        throw new InvalidOperationException("cannot find PortHistory.sln above the test binaries");
    }

    private static string Existing(string path) =>
        System.IO.Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"registry reference data not found at {path}");
}
