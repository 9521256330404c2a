using Orleans.Placement;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Hosts;

/// <summary>
/// One reporting host: its socket set and reporting state (<see cref="HostRecord"/>). Reports are checked against it
/// (<see cref="HostReportRules"/>); what one changes is written with the listener changes it causes in one transaction
/// (<see cref="IHostCommits"/>), and only then held here. Being heard is memory only (<see cref="IHostPulse"/>): a
/// heartbeat writes nothing. Activated on the silo whose gateway the host's agent reported through: an agent keeps its
/// connection, so its heartbeats reach the silo whose pulse board knows what this grain holds, and are answered there.
/// </summary>
[GrainType("host")]
[PreferLocalPlacement]
public sealed partial class HostGrain(IHostStore store, IHostCommits commits, IHostPulse pulse, IWatchEventSink events, TimeProvider clock) : Grain, IHostGrain
{
    private HostRecord _held = null!;
    private bool _stored;
    private DateTime _lastHeard;
    private Task? _loading;

    private string HostRef => this.GetPrimaryKeyString();

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        pulse.Forget(HostRef);
        return Task.CompletedTask;
    }

    public async Task<HostRecord?> GetAsync()
    {
        await LoadedAsync();
        return _stored ? _held with { LastSeen = LastHeard() } : null;
    }

    public async Task<HostReportAnswer> ReportAsync(HostReportInput input)
    {
        await LoadedAsync();
        var decision = HostReportRules.Decide(_held, input);
        switch (decision)
        {
            case HostDecision.Apply apply:
                var applied = _held with
                {
                    EpochId = input.EpochId, EpochStartedAt = input.EpochStartedAt, Seq = input.Seq, SetHash = input.SetHash,
                    LastSnapshotAt = input.Kind == HostReportKind.Snapshot ? input.ReceivedAt : _held.LastSnapshotAt,
                };
                if (!await ChangeAsync(Heard(applied, input), apply.Sockets, input.ReceivedAt, Earlier(input.ObservedAt, input.ReceivedAt)))
                {
                    // This activation lost track of the row: it starts again from what is stored.
                    await ReloadAsync();
                    return Answer(HostReportOutcome.Resync, "the host's state was changed meanwhile (on another server): send a snapshot");
                }

                return Answer(HostReportOutcome.Applied, "");
            case HostDecision.Alive:
                await HeardAsync(input);
                return Answer(HostReportOutcome.Applied, "");
            case HostDecision.Duplicate:
                await HeardAsync(input);
                return Answer(HostReportOutcome.Duplicate, "");
            case HostDecision.Resync resync:
                // A report the server cannot apply is still word from the host: it is alive.
                await HeardAsync(input);
                return Answer(HostReportOutcome.Resync, resync.Reason);
            default:
                throw new InvalidOperationException($"unknown decision {decision}");
        }
    }

    public async Task<HostState> CheckLivenessAsync(DateTime heardBefore)
    {
        await LoadedAsync();
        var heard = LastHeard();
        if (_held.State != HostState.Online || !_stored || heard >= heardBefore) return _held.State;
        var now = clock.GetUtcNow().UtcDateTime;
        var changes = new List<ListenerDelta>();
        HostListeners.All(_held.Sockets, ListenerChangeKind.WentStale, changes);
        var stale = _held with { State = HostState.Stale, StateSince = now, LastSeen = heard };
        // A heartbeat the silo answered from memory since the time was read keeps the host online.
        if (!pulse.TrySilence(stale, heardBefore)) return _held.State;
        try
        {
            await RaiseAsync(WatchEventKind.HostStale, stale, $"no report since {heard:O}: its {_held.Sockets.Length} sockets are kept, counted as stale");
            if (!await CommitAsync(stale, changes, now)) await ReloadAsync();
        }
        catch
        {
            // Not stale after all: the silo answers its heartbeats again, and its sweep asks again.
            pulse.Holds(_held);
            throw;
        }

        return _held.State;
    }

    public async Task<HostState?> RetireAsync(string reason, DateTime? heardBefore = null)
    {
        await LoadedAsync();
        if (!_stored) return null;
        var heard = LastHeard();
        if (_held.State == HostState.Retired || heard >= heardBefore) return _held.State;
        var now = clock.GetUtcNow().UtcDateTime;
        var changes = new List<ListenerDelta>();
        HostListeners.All(_held.Sockets, _held.State == HostState.Stale ? ListenerChangeKind.RemovedWhileStale : ListenerChangeKind.Removed, changes);
        var retired = _held with
        {
            State = HostState.Retired, StateSince = now, Sockets = [], SetHash = SocketSetHash.Empty, EpochId = 0, Seq = 0, RetiredReason = reason,
            LastSeen = heard,
        };
        // Retired for its silence: not if a heartbeat the silo answered from memory came since the time was read.
        if (heardBefore is { } before && !pulse.TrySilence(retired, before)) return _held.State;
        bool committed;
        try
        {
            await RaiseAsync(WatchEventKind.HostRetired, retired, $"retired: {reason}; its {_held.Sockets.Length} sockets are removed");
            committed = await CommitAsync(retired, changes, now);
        }
        catch
        {
            pulse.Holds(_held);
            throw;
        }

        if (!committed)
        {
            await ReloadAsync();
            return await RetireAsync(reason, heardBefore);
        }

        _scanAt = null;
        _scanSockets = [];
        return _held.State;
    }

    /// <summary>Word from the host: alive now; a stale host comes back (its listeners count as online again).</summary>
    private async Task HeardAsync(HostReportInput input)
    {
        var heard = Heard(_held, input);
        if (_held.State == HostState.Online)
        {
            // Memory only: the pulse writes the last-seen time now and then, in batches.
            _held = heard with { LastSeen = _held.LastSeen };
            Note(input.ReceivedAt);
            return;
        }

        if (!await ChangeAsync(heard, _held.Sockets, input.ReceivedAt, input.ReceivedAt)) await ReloadAsync();
    }

    private static DateTime Earlier(DateTime a, DateTime b) => a < b ? a : b;

    private static HostRecord Heard(HostRecord held, HostReportInput input) => held with
    {
        HostGroup = input.HostGroup, AgentVersion = input.AgentVersion, Privileged = input.Privileged,
        DroppedReports = Math.Max(held.DroppedReports, input.DroppedReports), DroppedBytes = Math.Max(held.DroppedBytes, input.DroppedBytes),
        LastSeen = input.ReceivedAt,
    };

    /// <summary>
    /// The host (heard at <paramref name="at"/>) now holds <paramref name="sockets"/>, a change it saw at
    /// <paramref name="changedAt"/> (a spooled change keeps its time): a stale or retired host is online again, and the
    /// listener changes go with the new row. False when the row was written meanwhile by another activation.
    /// </summary>
    private async Task<bool> ChangeAsync(HostRecord next, HostSocketEntry[] sockets, DateTime at, DateTime changedAt)
    {
        var changes = new List<ListenerDelta>();
        if (_held.State == HostState.Stale) HostListeners.All(_held.Sockets, ListenerChangeKind.CameBack, changes);
        HostListeners.Diff(_held.Sockets, sockets, changes);
        var comingBack = _held.State != HostState.Online;
        var changed = next with
        {
            Sockets = HostSocketSet.KeepSince(_held.Sockets, sockets),
            State = HostState.Online,
            StateSince = comingBack ? at : _held.StateSince,
            RetiredReason = null,
        };

        // Nothing a port or the stored row would see: memory only, as for a heartbeat.
        if (changes.Count == 0 && !comingBack && _stored && Unchanged(_held, changed))
        {
            _held = changed with { LastSeen = _held.LastSeen };
            Note(at);
            return true;
        }

        if (comingBack && _stored) await RaiseAsync(WatchEventKind.HostBack, changed, $"reported again after {_held.State.ToString().ToLowerInvariant()} since {_held.StateSince:O}");
        if (!await CommitAsync(changed, changes, comingBack ? at : changedAt)) return false;
        Note(at);
        return true;
    }

    private void Note(DateTime at)
    {
        if (at > _lastHeard) _lastHeard = at;
        pulse.Heard(_held, _lastHeard);
    }

    /// <summary>When the host was last heard: by this grain, or by the silo answering its heartbeats from memory.</summary>
    private DateTime LastHeard() => pulse.LastHeard(HostRef) is { } board && board > _lastHeard ? board : _lastHeard;

    /// <summary>What the stored row holds beyond liveness and the agent's figures (those are written with the last-seen time).</summary>
    private static bool Unchanged(HostRecord a, HostRecord b) =>
        a.EpochId == b.EpochId && a.Seq == b.Seq && a.SetHash == b.SetHash && a.HostGroup == b.HostGroup && a.Privileged == b.Privileged
        && a.LastSnapshotAt == b.LastSnapshotAt && a.Sockets.AsSpan().SequenceEqual(b.Sockets);

    private HostReportAnswer Answer(HostReportOutcome outcome, string reason) => new(outcome, reason, _held.Seq);

    private Task RaiseAsync(WatchEventKind kind, HostRecord host, string reason) =>
        events.RaiseAsync([new WatchEvent
        {
            // One event per transition: the row's version at it is stable across a retry of the same transition.
            EventId = $"{Name(kind)}:{HostRef}:{_held.Version + 1}",
            Kind = kind,
            HostRef = HostRef,
            HostGroup = host.HostGroup,
            Reason = reason,
            RaisedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(host.StateSince, DateTimeKind.Utc)),
        }], CancellationToken.None);

    private static string Name(WatchEventKind kind) => kind switch
    {
        WatchEventKind.HostStale => "host-stale",
        WatchEventKind.HostBack => "host-back",
        _ => "host-retired",
    };
}
