namespace PortHistory.Agent.Reporting;

/// <summary>How this run reports.</summary>
public enum ReportMode
{
    /// <summary>HostReports: changes, snapshots and heartbeats.</summary>
    Differential,

    /// <summary>Every scan's sightings as SightingBatches: --full-reports, or a server that answered ReportHost with Unimplemented in this run.</summary>
    Full,

    /// <summary>As <see cref="Full"/>, because an earlier run met an older server; asks again (a heartbeat) once the spool is empty.</summary>
    FullUntilAsked,
}
