using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Registry.Model;

namespace PortHistory.Server.Application.Sightings;

/// <summary>The observations index the port grains write when they checkpoint, read fleet-wide.</summary>
public interface IObservationIndex
{
    /// <summary>Discrepancies of the given kinds in a range, ghosts (assigned, never observed) included, ordered by port and transport.</summary>
    Task<IReadOnlyList<Discrepancy>> DiscrepanciesAsync(IReadOnlySet<VerdictKind> kinds, PortSpan range, Transport transport,
        long reportingHosts, VerdictOptions options, CancellationToken cancellationToken);

    /// <summary>Ports with observations: after a registry change their verdicts are recomputed.</summary>
    Task<IReadOnlyList<int>> ObservedPortsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// When a process not reported since counts as gone: <paramref name="goneAfter"/> before the fleet's newest sighting
    /// (at most now, so a fleet whose reports stopped reaching the server loses no process meanwhile); and the ports,
    /// at most <paramref name="limit"/>, with a process not yet gone last seen before then, oldest first. Null: nothing
    /// observed yet.
    /// </summary>
    Task<(DateTime SeenBefore, IReadOnlyList<int> Ports)?> PortsWithProcessesGoneAsync(TimeSpan goneAfter, int limit, CancellationToken cancellationToken);

    /// <summary>The cluster's gone-process sweep lock, held until disposed; null when another silo sweeps.</summary>
    Task<IAsyncDisposable?> TryLockGoneSweepAsync(CancellationToken cancellationToken);
}
