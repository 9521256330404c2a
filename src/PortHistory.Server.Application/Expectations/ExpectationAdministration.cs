using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Import;

namespace PortHistory.Server.Application.Expectations;

/// <summary>
/// Changes to the expectations: stored, read into this silo's catalog at once, and the affected ports judged again
/// (their index rows rewritten, so discrepancies show the change when the call returns). When the set turns from
/// empty to not (or back), every observed port is affected: uncovered listeners turn unexpected (or unregistered).
/// </summary>
public sealed class ExpectationAdministration(
    IExpectationStore store,
    ExpectationCatalog catalog,
    KeyedGrains grains,
    IObservedPorts observed,
    ILogger<ExpectationAdministration> logger)
{
    public async Task<IReadOnlyList<Expectation>> ListAsync(CancellationToken cancellationToken) => (await store.ListAsync(cancellationToken)).Expectations;

    public async Task<SetExpectationResponse> SetAsync(Expectation expectation, string setBy, CancellationToken cancellationToken)
    {
        var (stored, created, change) = await store.SetAsync(expectation, setBy, cancellationToken);
        await AppliedAsync(change, cancellationToken);
        return new SetExpectationResponse { Expectation = stored, Created = created };
    }

    public async Task<Expectation?> RemoveAsync(Expectation key, CancellationToken cancellationToken)
    {
        var (removed, change) = await store.RemoveAsync(key, cancellationToken);
        await AppliedAsync(change, cancellationToken);
        return removed;
    }

    public async Task<ReplaceExpectationsResponse> ReplaceAsync(IReadOnlyList<Expectation> wanted, string setBy, bool dryRun, CancellationToken cancellationToken)
    {
        var (report, change) = await store.ReplaceAsync(wanted, setBy, dryRun, cancellationToken);
        await AppliedAsync(change, cancellationToken);
        return report;
    }

    private async Task AppliedAsync(ExpectationChange change, CancellationToken cancellationToken)
    {
        if (change.Ports.Count == 0) return;
        // The change is committed from here on: a failure to re-judge is logged, never answered as a failed write.
        try
        {
            await catalog.AtLeastAsync(change.Version, cancellationToken);
            IEnumerable<int> ports = change.Ports;
            if (change.WasEmpty != change.IsEmpty) ports = ports.Union(await observed.ObservedPortsAsync(cancellationToken));
            await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
                async (port, _) => await grains.Port(port).RefreshExpectationsAsync(change.Version));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Stored: answers from the grains judge by it already; the index catches up at the ports' next checkpoints.
            logger.LogWarning("Refreshing verdicts after an expectation change failed: {Message}", e.Message);
        }
    }
}
