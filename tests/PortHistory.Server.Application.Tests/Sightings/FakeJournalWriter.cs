using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Tests.Sightings;

/// <summary>
/// A journal in memory: batch ids are recorded only by a commit, and every flush is kept (committed or not) with
/// what it appended and the key order it was given.
/// </summary>
internal sealed class FakeJournalWriter(int writer = 7) : IJournalWriter
{
    private readonly Dictionary<Guid, int> _recorded = [];

    /// <summary>The stored version of each host row (a fake of the hosts table).</summary>
    public Dictionary<string, long> HostVersions { get; } = new(StringComparer.Ordinal);

    public List<Flush> Flushes { get; } = [];

    /// <summary>Flushes fail at commit while this is above zero (each failure counts it down).</summary>
    public int CommitFailures { get; set; }

    /// <summary>When set, commits wait for it.</summary>
    public TaskCompletionSource? CommitGate { get; set; }

    public TaskCompletionSource CommitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void RecordEarlier(Guid batchId, int accepted)
    {
        lock (_recorded) _recorded[batchId] = accepted;
    }

    public Task<int> RegisterAsync(CancellationToken cancellationToken) => Task.FromResult(writer);

    public Task HeartbeatAsync(IReadOnlyCollection<int> writers, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IJournalFlush> BeginFlushAsync(int flushWriter, CancellationToken cancellationToken)
    {
        var flush = new Flush(this, flushWriter);
        lock (Flushes) Flushes.Add(flush);
        return Task.FromResult<IJournalFlush>(flush);
    }

    internal sealed class Flush(FakeJournalWriter journal, int writer) : IJournalFlush
    {
        private readonly Dictionary<Guid, int> _claimed = [];

        public int Writer { get; } = writer;

        public List<Guid> ClaimOrder { get; } = [];

        public long AfterSeq { get; private set; } = -1;

        public List<(Guid BatchId, int Port)> Appended { get; } = [];

        /// <summary>Host refs in the order their rows were written (the order they are locked in).</summary>
        public List<string> HostOrder { get; } = [];

        public List<ListenerChangeRow> ListenerChanges { get; } = [];

        public long ListenerChangesAfterSeq { get; private set; } = -1;

        public List<UsageDelta> Usage { get; } = [];

        public Task AddUsageAsync(IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken)
        {
            Usage.AddRange(deltas);
            return Task.CompletedTask;
        }

        public bool Committed { get; private set; }

        public Task<IReadOnlySet<Guid>> ClaimAsync(IReadOnlyList<JournalBatch> batches, CancellationToken cancellationToken)
        {
            var claimed = new HashSet<Guid>();
            lock (journal._recorded)
            {
                foreach (var batch in batches)
                {
                    ClaimOrder.Add(batch.BatchId);
                    if (!journal._recorded.ContainsKey(batch.BatchId) && _claimed.TryAdd(batch.BatchId, batch.Sightings.Count)) claimed.Add(batch.BatchId);
                }
            }

            return Task.FromResult<IReadOnlySet<Guid>>(claimed);
        }

        public Task<IReadOnlyDictionary<Guid, int>> RecordedCountsAsync(IReadOnlyList<Guid> batchIds, CancellationToken cancellationToken)
        {
            lock (journal._recorded)
            {
                return Task.FromResult<IReadOnlyDictionary<Guid, int>>(batchIds.Where(journal._recorded.ContainsKey).ToDictionary(id => id, id => journal._recorded[id]));
            }
        }

        public Task AppendAsync(long afterSeq, IReadOnlyList<JournalBatch> batches, CancellationToken cancellationToken)
        {
            AfterSeq = afterSeq;
            Appended.AddRange(batches.SelectMany(b => b.Sightings.Select(s => (b.BatchId, s.Port))));
            return Task.CompletedTask;
        }

        public Task<IReadOnlySet<string>> WriteHostsAsync(IReadOnlyList<HostCommit> commits, CancellationToken cancellationToken)
        {
            var written = new HashSet<string>(StringComparer.Ordinal);
            lock (journal._recorded)
            {
                foreach (var commit in commits)
                {
                    HostOrder.Add(commit.Row.HostRef);
                    // As the conditional write: only a row still at the version the grain read.
                    if (journal.HostVersions.GetValueOrDefault(commit.Row.HostRef) != commit.ExpectedVersion) continue;
                    journal.HostVersions[commit.Row.HostRef] = commit.Row.Version;
                    written.Add(commit.Row.HostRef);
                }
            }

            return Task.FromResult<IReadOnlySet<string>>(written);
        }

        public Task AppendListenerChangesAsync(long afterSeq, IReadOnlyList<ListenerChangeRow> rows, CancellationToken cancellationToken)
        {
            ListenerChangesAfterSeq = afterSeq;
            ListenerChanges.AddRange(rows);
            return Task.CompletedTask;
        }

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            journal.CommitStarted.TrySetResult();
            if (journal.CommitGate is { } gate) await gate.Task;
            if (journal.CommitFailures > 0)
            {
                journal.CommitFailures--;
                throw new InvalidOperationException("the connection was lost during COMMIT");
            }

            lock (journal._recorded)
            {
                foreach (var (id, count) in _claimed) journal._recorded[id] = count;
            }

            Committed = true;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
