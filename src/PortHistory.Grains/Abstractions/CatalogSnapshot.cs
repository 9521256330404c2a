using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>One committed generation: its editions in history order.</summary>
public sealed class CatalogSnapshot
{
    private readonly Dictionary<string, int> _rankById;

    public CatalogSnapshot(long generation, IReadOnlyList<EditionRef> editions)
    {
        Generation = generation;
        Editions = editions;
        _rankById = editions.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
    }

    public static CatalogSnapshot Empty { get; } = new(0, []);

    public long Generation { get; }

    public IReadOnlyList<EditionRef> Editions { get; }

    public EditionRef? Latest => Editions.Count == 0 ? null : Editions[^1];

    public int RankOf(string editionId) => _rankById.TryGetValue(editionId, out var rank) ? rank : -1;

    /// <summary>Rank of the edition in effect on a date (the newest effective on or before it), or -1.</summary>
    public int RankAsOf(DateOnly date) =>
        PortHistory.Registry.History.EditionAsOf.EditionIndex(Editions, e => new DateOnly(e.EffectiveDate.Year, e.EffectiveDate.Month, e.EffectiveDate.Day), date);
}
