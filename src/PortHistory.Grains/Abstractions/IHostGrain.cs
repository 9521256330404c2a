namespace PortHistory.Grains.Abstractions;

/// <summary>
/// One grain per reporting host (its pseudonymous host_ref): the host's current socket set and reporting state. It
/// checks every report against what it holds and passes the listener changes a report causes on to the port grains.
/// </summary>
[Alias("porthistory.IHostGrain")]
public interface IHostGrain : IGrainWithStringKey
{
    /// <summary>A differential report: heartbeat, changes or snapshot. Completes once what it changed is durable.</summary>
    [Alias("Report")]
    Task<HostReportAnswer> ReportAsync(HostReportInput input);

    /// <summary>Part or all of a full scan (an agent that reports every socket at every scan): the server derives the changes.</summary>
    [Alias("ReportScan")]
    Task ReportScanAsync(HostScanInput input);

    /// <summary>Marks the host stale when it has not been heard since <paramref name="heardBefore"/>; returns its state after.</summary>
    [Alias("CheckLiveness")]
    Task<HostState> CheckLivenessAsync(DateTime heardBefore);

    /// <summary>
    /// Retires the host: its sockets are removed with <paramref name="reason"/>; with <paramref name="heardBefore"/>, only
    /// if it has not been heard since. Returns the host's state after, or null when there is no such host.
    /// </summary>
    [Alias("Retire")]
    Task<HostState?> RetireAsync(string reason, DateTime? heardBefore = null);

    /// <summary>What the grain holds (null for a host never seen), with when it was last heard.</summary>
    [Alias("Get"), ReadOnly]
    Task<HostRecord?> GetAsync();
}
