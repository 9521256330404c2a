using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.UnitTests.Support;

/// <summary>Host reports that only remember what they were handed (the service tests check the gateway's side).</summary>
internal sealed class RecordingHostReports : IHostReports
{
    public List<HostReport> Reports { get; } = [];

    public List<IReadOnlyList<ValidSighting>> Scans { get; } = [];

    /// <summary>What <see cref="ReportAsync"/> answers.</summary>
    public HostReportOutcomeOrRefusal Answer { get; set; } =
        new(new HostReportResult { Outcome = HostReportOutcome.Applied }, null, null);

    public Task<HostReportOutcomeOrRefusal> ReportAsync(HostReport report, CancellationToken cancellationToken)
    {
        lock (Reports) Reports.Add(report);
        return Task.FromResult(Answer);
    }

    public Task ReportScansAsync(IReadOnlyList<ValidSighting> sightings, CancellationToken cancellationToken)
    {
        lock (Scans) Scans.Add(sightings);
        return ScansAnswer is { } busy ? Task.FromException(busy) : Task.CompletedTask;
    }

    /// <summary>What <see cref="ReportScansAsync"/> throws, if anything.</summary>
    public Exception? ScansAnswer { get; set; }

    public TimeSpan RetryAfter() => TimeSpan.FromSeconds(3);
}
