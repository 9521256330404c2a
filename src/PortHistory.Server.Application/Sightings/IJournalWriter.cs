using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Sightings;

/// <summary>A batch as the journal records it: its id, its valid sightings and how many others were rejected.</summary>
public record JournalBatch(Guid BatchId, IReadOnlyList<ValidSighting> Sightings, int Rejected);

/// <summary>
/// Listener changes of one kind for one process on one (port, transport), added up over the hosts of a flush that
/// report in the same host group.
/// </summary>
public sealed record ListenerChangeRow(int Port, Transport Transport, int ProcessId, ListenerChangeKind Kind, bool Reachable, int Hosts, DateTime ChangedAt,
    string HostGroup = "", string HostRef = "");

/// <summary>
/// The journal's write side: journal writers (each numbering its sightings with its own sequence), their heartbeats,
/// and flushes that record batches in one transaction.
/// </summary>
public interface IJournalWriter
{
    /// <summary>Registers a new journal writer; returns its id.</summary>
    Task<int> RegisterAsync(CancellationToken cancellationToken);

    /// <summary>Marks the writers as alive: a writer without heartbeat belongs to a process that is gone.</summary>
    Task HeartbeatAsync(IReadOnlyCollection<int> writers, CancellationToken cancellationToken);

    /// <summary>Starts one flush (one transaction) of a writer; nothing of it is durable before <see cref="IJournalFlush.CommitAsync"/>.</summary>
    Task<IJournalFlush> BeginFlushAsync(int writer, CancellationToken cancellationToken);
}

/// <summary>
/// One transaction of a journal writer. Keys are locked in the order given: callers pass batch ids and host hashes
/// sorted, so that concurrent flushes sharing some of them wait for each other instead of deadlocking.
/// </summary>
public interface IJournalFlush : IAsyncDisposable
{
    /// <summary>Records the batch ids not recorded before; returns those (the others were recorded earlier).</summary>
    Task<IReadOnlySet<Guid>> ClaimAsync(IReadOnlyList<JournalBatch> batches, CancellationToken cancellationToken);

    /// <summary>The accepted count of each batch recorded earlier.</summary>
    Task<IReadOnlyDictionary<Guid, int>> RecordedCountsAsync(IReadOnlyList<Guid> batchIds, CancellationToken cancellationToken);

    /// <summary>Appends the batches' sightings in order, numbered from <paramref name="afterSeq"/> + 1 on.</summary>
    Task AppendAsync(long afterSeq, IReadOnlyList<JournalBatch> batches, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the hosts' rows, each only if the stored row is still at the version its commit expects (host refs in
    /// order, the order their rows are locked in). Returns the host refs written; the others were changed meanwhile.
    /// </summary>
    Task<IReadOnlySet<string>> WriteHostsAsync(IReadOnlyList<HostCommit> commits, CancellationToken cancellationToken);

    /// <summary>Appends listener changes in order, numbered from <paramref name="afterSeq"/> + 1 on (the writer's sequence, shared with sightings).</summary>
    Task AppendListenerChangesAsync(long afterSeq, IReadOnlyList<ListenerChangeRow> rows, CancellationToken cancellationToken);

    /// <summary>Adds the written hosts' listener changes to the usage history (days, months, lifetimes), in key order.</summary>
    Task AddUsageAsync(IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken);

    Task CommitAsync(CancellationToken cancellationToken);
}
