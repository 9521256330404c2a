using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Usage;

/// <summary>One usage row as stored: hosts that started and stopped listening in a day (or a month).</summary>
public readonly record struct StoredUsageRow(Transport Transport, int ProcessId, bool Reachable, DateOnly Start, int Added, int Removed);

/// <summary>A process's lifetime on a port and transport, as stored, with its name.</summary>
public sealed record StoredLifetime(Transport Transport, int ProcessId, string Name, string Executable, DateTime FirstSeen, DateTime LastAddedAt,
    DateTime? LastRemovedAt, int PeakHosts, DateOnly? PeakDay);

/// <summary>What a usage history answer is built from, for one port.</summary>
/// <param name="Months">Every month row of the port (kept for ever).</param>
/// <param name="Days">The day rows from the first day of <c>from</c>'s month to <c>to</c>.</param>
/// <param name="ReportingHosts">Hosts that reported anything, per closed day in the range.</param>
/// <param name="ReportingSince">The first day any host reported.</param>
/// <param name="DailySince">The first day daily rows are kept from (older ones were dropped past the retention); null when none were dropped.</param>
public sealed record UsageRows(
    IReadOnlyList<StoredUsageRow> Months,
    IReadOnlyList<StoredUsageRow> Days,
    IReadOnlyList<StoredLifetime> Lifetimes,
    IReadOnlyDictionary<DateOnly, int> ReportingHosts,
    DateOnly? ReportingSince,
    DateOnly? DailySince = null);

/// <summary>The usage history's read side.</summary>
public interface IUsageStore
{
    /// <summary>The rows of one port (one transport, or all) that an answer for days <paramref name="from"/> to <paramref name="to"/> needs.</summary>
    Task<UsageRows> ReadAsync(int port, Transport? transport, DateOnly from, DateOnly to, CancellationToken cancellationToken);
}

/// <summary>The usage history's bulk write: rows added, and the lifetimes' busiest days from them, in one transaction (whole or not at all).</summary>
public interface IUsageLoadStore
{
    Task AddAsync(IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken);
}
