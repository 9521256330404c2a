using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Ports;

namespace PortHistory.Server.Application.Sightings;

/// <summary>Discrepancies found fleet-wide, with the count of reporting hosts they were judged against.</summary>
public sealed record DiscrepancyReport(long ReportingHosts, IReadOnlyList<Discrepancy> Discrepancies);

/// <summary>What the fleet observes: one port from its grain (its verdicts quote their history), discrepancies from the observations index.</summary>
public interface IObservationQueries
{
    Task<GetObservedResponse> GetObservedAsync(int port, Transport transport, bool includeHostRefs, DateTime deadline, CancellationToken cancellationToken);

    Task<DiscrepancyReport> DiscrepanciesAsync(IReadOnlySet<VerdictKind> kinds, PortSpan range, Transport transport, CancellationToken cancellationToken);
}

public sealed class ObservationQueries(PortReads ports, IObservationIndex index, ObservationContext observations) : IObservationQueries
{
    public Task<GetObservedResponse> GetObservedAsync(int port, Transport transport, bool includeHostRefs, DateTime deadline, CancellationToken cancellationToken) =>
        ports.GetObservedAsync(port, transport, includeHostRefs, deadline, cancellationToken);

    public async Task<DiscrepancyReport> DiscrepanciesAsync(IReadOnlySet<VerdictKind> kinds, PortSpan range, Transport transport,
        CancellationToken cancellationToken)
    {
        // Read once: the ghosts are judged against the same count the answer reports.
        var reporting = observations.ReportingHosts;
        return new DiscrepancyReport(reporting, await index.DiscrepanciesAsync(kinds, range, transport, reporting, observations.Options, cancellationToken));
    }
}
