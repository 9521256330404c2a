using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// One transaction of a journal writer: claims the batch ids (the ones recorded before are duplicates), writes the host
/// rows still at the versions their grains read, then appends the new batches' sightings and the written hosts'
/// listener changes (added up per process and kind) in the writer's sequence, and adds those to the usage history. What it used of the sequence is known
/// at every step, so that a failure (even one after PostgreSQL committed) never reuses a number.
/// </summary>
internal sealed class JournalFlushRun(JournalLane lane, IJournalWriter journal, IProcessDictionary processes, List<PendingBatch> batches, List<PendingHost> hosts)
{
    private readonly long _startSeq = lane.Seq;
    private readonly List<PendingBatch> _written = [];
    private readonly List<PendingHost> _hostsWritten = [];
    private readonly List<ListenerChangeRow> _changes = [];
    private ProcessKey[] _changeProcesses = [];
    private IReadOnlyDictionary<Guid, int> _recorded = new Dictionary<Guid, int>();

    /// <summary>A host was written for the first time, or changed state: the fleet's counts are due again.</summary>
    public bool NewOrChangedHosts => _hostsWritten.Any(h => h.Commit.ExpectedVersion == 0 || h.Commit.Row.StateSince == h.Commit.ChangedAt);

    /// <summary>What the port grains get: the sightings and listener changes, each with its port, in sequence order.</summary>
    public IEnumerable<(int Writer, (int Port, ObservationEntry Entry)[] Entries)> Entries
    {
        get
        {
            var seq = _startSeq;
            foreach (var pending in _written)
            {
                var entries = new (int Port, ObservationEntry Entry)[pending.Batch.Sightings.Count];
                for (var i = 0; i < entries.Length; i++)
                {
                    var s = pending.Batch.Sightings[i];
                    entries[i] = (s.Port, new ObservationEntry(++seq, s.Transport, s.HostHash, s.HostRef, s.Process, s.Executable, s.ObservedAt, s.BindScope,
                        s.Privileged, s.Program, s.SystemdUnit, s.HostGroup));
                }

                yield return (lane.Writer, entries);
            }

            if (_changes.Count == 0) yield break;
            var changes = new (int Port, ObservationEntry Entry)[_changes.Count];
            for (var i = 0; i < changes.Length; i++)
            {
                var row = _changes[i];
                var process = _changeProcesses[i];
                changes[i] = (row.Port, ObservationEntry.Listener(++seq, row.Transport, row.Kind, row.Reachable, row.Hosts, row.ChangedAt,
                    process.Name, process.Executable, process.Program, process.SystemdUnit, presence: row.ProcessId == ListenerDelta.HostPresence)
                    with { HostGroup = row.HostGroup });
            }

            yield return (lane.Writer, changes);
        }
    }

    public async Task WriteAsync(CancellationToken cancellationToken)
    {
        // Batch ids and host refs in order: the order their rows are locked in, so concurrent flushes wait instead of deadlocking.
        var candidates = batches.DistinctBy(p => p.Batch.BatchId).OrderBy(p => p.Batch.BatchId).ToList();
        var commits = hosts.DistinctBy(h => h.Commit.Row.HostRef).OrderBy(h => h.Commit.Row.HostRef, StringComparer.Ordinal).ToList();

        await using var flush = await journal.BeginFlushAsync(lane.Writer, cancellationToken);
        var claimed = await flush.ClaimAsync([.. candidates.Select(c => c.Batch)], cancellationToken);
        _written.AddRange(candidates.Where(c => claimed.Contains(c.Batch.BatchId)));
        var earlier = candidates.Where(c => !claimed.Contains(c.Batch.BatchId)).Select(c => c.Batch.BatchId).ToList();
        if (earlier.Count > 0) _recorded = await flush.RecordedCountsAsync(earlier, cancellationToken);

        if (commits.Count > 0)
        {
            var written = await flush.WriteHostsAsync([.. commits.Select(h => h.Commit)], cancellationToken);
            _hostsWritten.AddRange(commits.Where(h => written.Contains(h.Commit.Row.HostRef)));
            _changes.AddRange(AddUp(_hostsWritten));
            _changeProcesses = await processes.KeysAsync([.. _changes.Select(c => c.ProcessId == ListenerDelta.HostPresence ? -1 : c.ProcessId)], cancellationToken);
        }

        var sightings = _written.Sum(p => p.Batch.Sightings.Count);
        await flush.AppendAsync(_startSeq, [.. _written.Select(p => p.Batch)], cancellationToken);
        await flush.AppendListenerChangesAsync(_startSeq + sightings, _changes, cancellationToken);
        // Last before the commit: the usage rows of busy ports are shared by every writer, and each waits for the row
        // locks another holds until it commits; taken here they are held for the commit alone, not the appends too.
        if (_hostsWritten.Count > 0) await flush.AddUsageAsync(UsageDelta.Of(_hostsWritten.Select(h => h.Commit)), cancellationToken);
        await flush.CommitAsync(cancellationToken);
        lane.Seq = _startSeq + sightings + _changes.Count;
    }

    /// <summary>
    /// After a failure: the sequence numbers this run may have used are never used again, and per port the last of
    /// them (the journal may hold entries up to it).
    /// </summary>
    public IReadOnlyDictionary<int, long> Reserved()
    {
        var last = new Dictionary<int, long>();
        var seq = _startSeq;
        foreach (var pending in _written)
        {
            foreach (var s in pending.Batch.Sightings) last[s.Port] = ++seq;
        }

        foreach (var change in _changes) last[change.Port] = ++seq;
        lane.Seq = Math.Max(lane.Seq, seq);
        return last;
    }

    /// <summary>Durable: every batch and host is answered.</summary>
    public void Answer()
    {
        var answered = _written.ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var pending in batches)
        {
            if (answered.Contains(pending))
            {
                pending.Result.TrySetResult(new IngestResult(pending.Batch.Sightings.Count, Duplicate: false));
                continue;
            }

            // Recorded by an earlier flush: the count recorded then; a repeat within this flush: its own.
            var accepted = _recorded.TryGetValue(pending.Batch.BatchId, out var count) ? count : pending.Batch.Sightings.Count;
            pending.Result.TrySetResult(new IngestResult(accepted, Duplicate: true));
        }

        var written = _hostsWritten.ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var pending in hosts) pending.Result.TrySetResult(written.Contains(pending));
    }

    /// <summary>
    /// The hosts' listener changes added up per (port, transport, process, kind, reach), in port order and, per process,
    /// additions before removals: a process one host stops and another starts in the same flush is never seen gone.
    /// </summary>
    private static IEnumerable<ListenerChangeRow> AddUp(List<PendingHost> written) =>
        written.SelectMany(h => h.Commit.Changes.Select(c => (Change: c, h.Commit.ChangedAt, h.Commit.Row.HostGroup, h.Commit.Row.HostRef)))
            .GroupBy(c => (c.Change.Port, c.Change.Transport, c.Change.ProcessId, c.Change.Kind, c.Change.Reachable, c.HostGroup))
            .Select(g => new ListenerChangeRow(g.Key.Port, g.Key.Transport, g.Key.ProcessId, g.Key.Kind, g.Key.Reachable, g.Sum(c => c.Change.Hosts),
                g.Max(c => c.ChangedAt), g.Key.HostGroup, g.First().HostRef))
            .OrderBy(r => r.Port).ThenBy(r => r.Transport).ThenBy(r => r.ProcessId).ThenBy(r => Order(r.Kind)).ThenBy(r => r.Reachable);

    private static int Order(ListenerChangeKind kind) => kind switch
    {
        ListenerChangeKind.Added => 0,
        ListenerChangeKind.CameBack => 1,
        ListenerChangeKind.WentStale => 2,
        ListenerChangeKind.Removed => 3,
        _ => 4,
    };
}
