using System.Diagnostics;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// The history a generation commits, derived from the committed one: editions newer than the newest are appended
/// (the common case: a follower's new version, a git history imported in order); an older one cuts the history back
/// to where it belongs and appends what follows it again, from the stored originals. The committed history comes
/// from this silo's cache or, when another silo committed since, from the query index.
/// </summary>
public sealed class HistoryDerivation(IEditionStore editions, IGenerationStore generations, ParsedEditions parsed, HistoryCache cache,
    ILogger<HistoryDerivation> logger)
{
    /// <summary>What the generation starts from and what it commits.</summary>
    /// <param name="Previous">The committed projection when known here: the commit then writes only what differs from it.</param>
    /// <param name="Appended">Editions appended to the history, including those appended again after a cut.</param>
    public sealed record Derived(HistoryLedger Ledger, RegistryProjection? Previous, int Appended, bool Replayed);

    /// <param name="stored">Every stored edition, pending ones included.</param>
    public async Task<Derived> DeriveAsync(IReadOnlyList<StoredEdition> stored, bool fromScratch, CancellationToken cancellationToken)
    {
        var committed = await CommittedAsync(cancellationToken);
        // Editions another silo applied since they were received here are parsed for nothing now.
        parsed.Forget(stored.Where(e => !e.Pending));
        var complete = stored.Where(e => !e.Pending && !e.Format.IsLocal()).OrderBy(Identity, Order.Instance).Select(e => e.Id);
        if (!fromScratch && !complete.SequenceEqual(committed.Ledger.Editions.Select(e => e.Id)))
        {
            // The index does not hold the editions the table says are committed (written by an older server, say).
            logger.LogWarning("The committed history does not hold every complete edition: deriving it again from the originals");
            fromScratch = true;
        }

        var ledger = fromScratch ? HistoryLedger.Empty : committed.Ledger;
        var pending = stored.Where(e => e.Pending && !e.Format.IsLocal()).OrderBy(Identity, Order.Instance).ToList();
        var clock = Stopwatch.StartNew();
        if (!fromScratch && (pending.Count == 0 || ledger.FollowsNewest(Identity(pending[0]))))
        {
            foreach (var edition in pending) ledger = ledger.Append(await parsed.ParseAsync(edition, editions, cancellationToken));
            return new Derived(ledger, committed.Projection, pending.Count, Replayed: false);
        }

        // An older edition: the history from where it belongs is derived again, each edition from its original.
        var registry = stored.Where(e => !e.Format.IsLocal()).OrderBy(Identity, Order.Instance).ToList();
        var keep = fromScratch ? 0 : ledger.Editions.Count(e => Order.Instance.Compare(e, Identity(pending[0])) < 0);
        // A ledger read back from storage cannot be cut: the history is then derived from the first edition.
        if (!ledger.CanTruncate) keep = 0;
        ledger = keep == 0 ? HistoryLedger.Empty : ledger.Truncate(keep);
        var again = registry.Skip(keep).ToList();
        logger.LogInformation("Deriving the history again from edition {Rank} on: {Count} edition(s) from their originals", keep, again.Count);

        // Parsing the next edition while the current one is appended: two at a time in memory, whatever the history's length.
        var next = again.Count > 0 ? ParseAsync(again[0], cancellationToken) : null;
        for (var i = 0; i < again.Count; i++)
        {
            var edition = await next!;
            next = i + 1 < again.Count ? ParseAsync(again[i + 1], cancellationToken) : null;
            ledger = ledger.Append(edition);
        }

        logger.LogInformation("History derived again: {Count} edition(s) in {Elapsed:0.0}s", again.Count, clock.Elapsed.TotalSeconds);
        return new Derived(ledger, committed.Projection, again.Count, Replayed: true);
    }

    /// <summary>After the commit: the next generation starts from this one.</summary>
    public void Committed(long generation, HistoryLedger ledger, RegistryProjection projection, IEnumerable<StoredEdition> applied)
    {
        cache.Keep(new HistoryCache.Entry(generation, ledger, projection));
        parsed.Forget(applied);
    }

    private async Task<HistoryCache.Entry> CommittedAsync(CancellationToken cancellationToken)
    {
        var generation = await generations.CommittedGenerationAsync(cancellationToken);
        if (cache.For(generation) is { } cached) return cached;
        var clock = Stopwatch.StartNew();
        var loaded = await generations.LoadCommittedHistoryAsync(cancellationToken);
        logger.LogInformation("Read the history of generation {Generation} from the query index: {Editions} editions in {Elapsed:0.0}s",
            loaded.Generation, loaded.Ledger.Editions.Length, clock.Elapsed.TotalSeconds);
        var entry = new HistoryCache.Entry(loaded.Generation, loaded.Ledger, null);
        cache.Keep(entry);
        return entry;
    }

    private Task<RegistryEdition> ParseAsync(StoredEdition edition, CancellationToken cancellationToken) =>
        Task.Run(() => parsed.ParseAsync(edition, editions, cancellationToken), cancellationToken);

    private static EditionIdentity Identity(StoredEdition edition) => new(edition.Id, edition.EffectiveDate, edition.Format, edition.Title);

    private sealed class Order : IComparer<EditionIdentity>
    {
        public static readonly Order Instance = new();

        public int Compare(EditionIdentity? x, EditionIdentity? y) => HistoryOrder.Compare(x!, y!);
    }
}
