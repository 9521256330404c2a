using System.Collections.Concurrent;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// Editions parsed on receipt, by SHA-256, until the generation that applies them commits: it does not parse them
/// again. Anything else (a history derived again from the originals) is parsed from the stored original when needed,
/// and not kept: a long history would not fit in memory parsed.
/// </summary>
public sealed class ParsedEditions
{
    /// <summary>
    /// Editions kept at most: a batch of uploads is applied together, but an edition received here and applied by
    /// another silo would otherwise stay (a large one parses to tens of megabytes).
    /// </summary>
    public const int Capacity = 32;

    private readonly ConcurrentDictionary<string, RegistryEdition> _bySha256 = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _received = new();

    /// <summary>Keeps an edition parsed on receipt, so its generation does not parse it again.</summary>
    public void Remember(RegistryEdition edition)
    {
        if (!_bySha256.TryAdd(edition.Sha256, edition)) return;
        _received.Enqueue(edition.Sha256);
        while (_bySha256.Count > Capacity && _received.TryDequeue(out var oldest)) _bySha256.TryRemove(oldest, out _);
    }

    /// <summary>Lets go of editions once their generation has committed.</summary>
    public void Forget(IEnumerable<StoredEdition> editions)
    {
        foreach (var edition in editions) _bySha256.TryRemove(edition.Sha256, out _);
    }

    /// <summary>A stored edition as parsed with the choices made when it was received: remembered, or read from its original.</summary>
    public async Task<RegistryEdition> ParseAsync(StoredEdition stored, IEditionStore store, CancellationToken cancellationToken)
    {
        if (_bySha256.TryGetValue(stored.Sha256, out var remembered)) return remembered;
        var original = await store.ReadOriginalAsync(stored.Id, cancellationToken);
        return Parse(stored, original);
    }

    /// <summary>An original parsed with the choices recorded for it (id, format, title, date).</summary>
    public static RegistryEdition Parse(StoredEdition stored, byte[] original) =>
        EditionReader.Read(new EditionContent(original, stored.Source), new EditionReadOptions
        {
            Format = stored.Format,
            EffectiveDate = stored.EffectiveDate,
            Id = stored.Id,
            Title = stored.Title,
        }) with { DateSource = stored.DateSource };
}
