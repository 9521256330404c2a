using System.Collections.Concurrent;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// Editions already parsed, by SHA-256: every generation rebuilds the whole history from all stored editions, and
/// parsing each anew (the large ones take seconds) would dominate it.
/// </summary>
public sealed class ParsedEditions
{
    private readonly ConcurrentDictionary<string, RegistryEdition> _bySha256 = new(StringComparer.Ordinal);

    /// <summary>Keeps an edition parsed on receipt, so its generation does not parse it again.</summary>
    public void Remember(RegistryEdition edition) => _bySha256.TryAdd(edition.Sha256, edition);

    /// <summary>A stored edition as parsed with the choices made when it was received.</summary>
    public RegistryEdition Parse(StoredEdition stored) => _bySha256.GetOrAdd(stored.Sha256, _ =>
        EditionReader.Read(new EditionContent(stored.Content, stored.Source), new EditionReadOptions
        {
            Format = stored.Format,
            EffectiveDate = stored.EffectiveDate,
            Id = stored.Id,
            Title = stored.Title,
        }) with { DateSource = stored.DateSource });
}
