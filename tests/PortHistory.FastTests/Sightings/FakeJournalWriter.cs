using PortHistory.Server.Application.Sightings;

namespace PortHistory.FastTests.Sightings;

/// <summary>
/// A journal in memory: batch ids are recorded only by a commit, and every flush is kept (committed or not) with
/// what it appended and the key order it was given.
/// </summary>
internal sealed class FakeJournalWriter(int writer = 7) : IJournalWriter
{
    private readonly Dictionary<Guid, int> _recorded = [];

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

        public List<long> HostOrder { get; } = [];

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

        public Task<int> AddHostsAsync(IReadOnlyList<(long HostHash, DateTime LastSeen)> hosts, CancellationToken cancellationToken)
        {
            HostOrder.AddRange(hosts.Select(h => h.HostHash));
            return Task.FromResult(hosts.Count);
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
