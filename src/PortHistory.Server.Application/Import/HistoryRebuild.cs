using System.Runtime.CompilerServices;
using PortHistory.Registry.Formats;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Import;

/// <summary>One step of a rebuild as the caller sees it.</summary>
/// <param name="Finding">An edition whose parse differs from what was recorded: its id and the difference.</param>
/// <param name="Result">The last report.</param>
public sealed record RebuildReport(string Message, int Done = 0, int Total = 0, (string EditionId, string Difference)? Finding = null,
    HistoryRebuildOutcome? Result = null);

/// <param name="Generation">The generation the history was derived again in; null when it was not.</param>
public sealed record HistoryRebuildOutcome(long? Generation, int Editions, int Differing, int PortsChanged, QueryIndexDelta? IndexChanges);

/// <summary>
/// Derives everything again from what was received: every stored original is read back (checked against its
/// SHA-256) and parsed with the choices recorded for it; each edition whose parse no longer gives what it gave when
/// received is reported (and its counts and fingerprint updated); then the whole history is derived from the
/// originals in a new generation, which restages the ports and rewrites the index rows that change. An original that
/// cannot be read or parsed stops the rebuild before anything is committed.
/// </summary>
public sealed class HistoryRebuild(IEditionStore editions, GenerationLifecycle lifecycle, TimeProvider clock, ILogger<HistoryRebuild> logger)
{
    /// <summary>How long a rebuild waits for an import under way to finish.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(5);

    public async IAsyncEnumerable<RebuildReport> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stored = (await editions.LoadAllAsync(cancellationToken)).OrderBy(e => e.EffectiveDate).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        var differing = 0;
        var unreadable = false;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        for (var i = 0; i < stored.Count; i++)
        {
            var edition = stored[i];
            var (difference, fatal) = await CheckAsync(edition, today, cancellationToken);
            unreadable |= fatal;
            if (difference is not null)
            {
                differing++;
                logger.LogWarning("Rebuild: {Edition}: {Difference}", edition.Id, difference);
                yield return new RebuildReport($"{edition.Id}: {difference}", i + 1, stored.Count, (edition.Id, difference));
            }
            else if ((i + 1) % 10 == 0 || i + 1 == stored.Count)
            {
                yield return new RebuildReport($"parsed {i + 1} of {stored.Count} originals", i + 1, stored.Count);
            }
        }

        if (unreadable)
        {
            yield return new RebuildReport("not derived again: an original cannot be read or parsed (see above); nothing was changed",
                Result: new HistoryRebuildOutcome(null, stored.Count, differing, 0, null));
            yield break;
        }

        yield return new RebuildReport("deriving the history again from the originals");
        var waited = clock.GetUtcNow();
        GenerationOutcome? outcome;
        while ((outcome = await lifecycle.RebuildAsync(cancellationToken)) is null)
        {
            // Another importer holds the lock: it finishes its generation first.
            if (clock.GetUtcNow() - waited > LockWait) throw new TimeoutException($"another import held the import lock for more than {LockWait.TotalMinutes:0} minutes");
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }

        yield return new RebuildReport(
            $"derived again in generation {outcome.Generation}: {outcome.ChangedPorts} ports changed, " +
            (outcome.IndexChanges is { } delta ? $"{delta.RowsWritten} index rows written and {delta.RowsDeleted} deleted" : "the index rewritten"),
            Result: new HistoryRebuildOutcome(outcome.Generation, stored.Count, differing, outcome.ChangedPorts, outcome.IndexChanges));
    }

    /// <summary>What differs in the edition's parse now, or null; fatal when its original cannot be read or parsed at all.</summary>
    private async Task<(string? Difference, bool Fatal)> CheckAsync(StoredEdition edition, DateOnly today, CancellationToken cancellationToken)
    {
        PortHistory.Registry.Model.RegistryEdition parsed;
        try
        {
            parsed = ParsedEditions.Parse(edition, await editions.ReadOriginalAsync(edition.Id, cancellationToken));
        }
        catch (OriginalUnreadableException e)
        {
            return (e.Message, true);
        }
        catch (EditionFormatException e)
        {
            return ($"the original no longer parses: {e.Message}", true);
        }

        var digest = ParseDigest.Of(parsed);
        if (edition.ParseDigest is { } recorded && recorded.AsSpan().SequenceEqual(digest)) return (null, false);
        var differences = new List<string>();
        if (edition.ParseDigest is null) differences.Add("no parse fingerprint was recorded (received before they were kept)");
        if (parsed.Records.Length != edition.Records) differences.Add($"{edition.Records} → {parsed.Records.Length} records");
        if (parsed.Warnings.Length != edition.Warnings) differences.Add($"{edition.Warnings} → {parsed.Warnings.Length} warnings");
        if (differences.Count == 0) differences.Add("the records differ");
        var difference = string.Join("; ", differences);
        await editions.RecordReparseAsync(edition.Id, parsed.Records.Length, parsed.Warnings.Length, digest, $"rebuilt {today:yyyy-MM-dd}: {difference}",
            cancellationToken);
        return (difference, false);
    }
}
