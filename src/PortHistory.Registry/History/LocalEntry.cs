using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// What one local service table (/etc/services, nmap-services) says about a (port, transport): conventional use on
/// a host or in a scanner's tables, shown beside the registry and never part of its history.
/// </summary>
public sealed record LocalEntry(
    EditionIdentity Edition,
    string Source,
    int Port,
    TransportProtocol Transport,
    string ServiceName,
    double? OpenFrequency,
    ImmutableArray<string> Aliases,
    string? Comment)
{
    /// <summary>"nmap-services" or "/etc/services": what kind of table speaks, for wording.</summary>
    public string TableName => Edition.Format == EditionFileFormat.NmapServices ? "nmap-services" : "/etc/services";

    /// <summary>
    /// The entries of <paramref name="edition"/> (a local one) for a port, in file order; the one conversion from a
    /// local table's records, shared by the library's answers and the server's.
    /// </summary>
    public static IEnumerable<LocalEntry> Of(RegistryEdition edition, int port, TransportProtocol? transport = null)
    {
        if (!edition.IsLocal) throw new ArgumentException($"edition {edition.Id} is not a local service table", nameof(edition));
        var reference = EditionIdentity.Of(edition);
        foreach (var record in edition.Records)
        {
            if (record.Ports is not { } ports || ports.First > port || ports.Last < port || record.ServiceName is null) continue;
            if (transport is { } only and not TransportProtocol.Unspecified && record.Transport != only) continue;
            yield return From(reference, edition.Source, port, record);
        }
    }

    /// <summary>
    /// Every entry of <paramref name="edition"/> (a local one), port by port, in file order: for an index of all ports.
    /// A record spanning more than <paramref name="maxSpan"/> ports is left out (no real table has one; a made-up file
    /// must not fill memory).
    /// </summary>
    public static IEnumerable<LocalEntry> All(RegistryEdition edition, int maxSpan = 1024)
    {
        if (!edition.IsLocal) throw new ArgumentException($"edition {edition.Id} is not a local service table", nameof(edition));
        var reference = EditionIdentity.Of(edition);
        foreach (var record in edition.Records)
        {
            if (record.Ports is not { } ports || record.ServiceName is null || ports.Last - ports.First >= maxSpan) continue;
            for (var port = ports.First; port <= ports.Last; port++) yield return From(reference, edition.Source, port, record);
        }
    }

    private static LocalEntry From(EditionIdentity edition, string source, int port, EditionRecord record) =>
        new(edition, source, port, record.Transport, record.ServiceName!, record.OpenFrequency, record.Aliases,
            record.Description.Length == 0 ? null : record.Description);
}
