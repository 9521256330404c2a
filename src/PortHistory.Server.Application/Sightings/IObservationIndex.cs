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
}
