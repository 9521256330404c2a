using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Usage;

/// <summary>The usage tables' upkeep, done by one silo of the cluster at a time.</summary>
public interface IUsageMaintenance
{
    /// <summary>The upkeep's lock: null when another silo holds it.</summary>
    Task<IAsyncDisposable?> TryLockAsync(CancellationToken cancellationToken);

    /// <summary>Makes sure each month from <paramref name="first"/> to <paramref name="last"/>, and each with rows waiting in the default partition, has its partition (the rows move there).</summary>
    Task<int> EnsurePartitionsAsync(DateOnly first, DateOnly last, CancellationToken cancellationToken);

    /// <summary>Drops the partitions of months that end before <paramref name="before"/>; returns their names.</summary>
    Task<IReadOnlyList<string>> DropPartitionsBeforeAsync(DateOnly before, CancellationToken cancellationToken);

    /// <summary>The last closed day, or (none closed yet) the day before the first with anything to close; null when there is nothing at all.</summary>
    Task<DateOnly?> LastClosedAsync(CancellationToken cancellationToken);

    /// <summary>What the day may announce: processes started after <paramref name="quietDays"/> without, and the ports that rose, with their baseline days.</summary>
    Task<UsageDaySignals> ReadSignalsAsync(DateOnly day, int quietDays, int baselineDays, CancellationToken cancellationToken);

    /// <summary>
    /// Once per database, in one transaction: adds the listeners hosts held when the usage history began, as
    /// <paramref name="deltasOf"/> works them out from that time and those hosts' socket sets. Null when it was done before.
    /// </summary>
    Task<PrehistoryCount?> CountBeforeHistoryAsync(Func<DateTime, IEnumerable<HostSocketEntry[]>, IReadOnlyList<UsageDelta>> deltasOf, CancellationToken cancellationToken);

    /// <summary>Closes one day in one transaction: its reporting hosts, and the lifetimes' busiest days from it and the days before it.</summary>
    Task CloseDayAsync(DateOnly day, int recheckDays, DateTime closedAt, CancellationToken cancellationToken);
}

/// <summary>The hosts whose listeners from before the usage history were added, and those whose stored socket set could not be read.</summary>
public readonly record struct PrehistoryCount(int Hosts, int Unreadable);
