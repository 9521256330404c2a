namespace PortHistory.Server.Application.Sightings;

/// <summary>The fleet's reporting hosts: every host that has reported anything, on any silo.</summary>
public interface IReportingHostCount
{
    Task<long> CountAsync(CancellationToken cancellationToken);
}
