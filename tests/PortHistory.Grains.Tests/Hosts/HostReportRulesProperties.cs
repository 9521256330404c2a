using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>
/// Differential reporting over an unreliable delivery: whatever is duplicated, reordered, dropped or replayed, once the
/// agent's last reports arrive and its resyncs are answered the server holds the agent's set, never a set the agent did
/// not have at the seq held, and no report is applied twice.
/// </summary>
public sealed class HostReportRulesProperties
{
    /// <summary>What happens next: the agent scans (a new set), the delivery passes, drops, reorders, repeats or replays, or the agent loses its state.</summary>
    private enum Step { Scan, Deliver, Drop, Swap, Repeat, Replay, Restart }

    private static readonly Gen<(Step, int)[]> Schedules =
        Gen.Select(Gen.Frequency((4, Gen.Const(Step.Scan)), (6, Gen.Const(Step.Deliver)), (1, Gen.Const(Step.Drop)), (1, Gen.Const(Step.Swap)),
            (1, Gen.Const(Step.Repeat)), (1, Gen.Const(Step.Replay)), (1, Gen.Const(Step.Restart))), Gen.Int[0, AllMask]).Array[1, 60];

    [Fact]
    public void Whatever_the_delivery_does_the_server_ends_with_the_agent_set_and_applies_each_report_once()
    {
        Schedules.Sample(schedule =>
        {
            var run = new Run();
            foreach (var (step, value) in schedule) run.Do(step, value);
            run.Settle();

            Assert.Equal(Identities(Entries(Set(run.Agent.Mask), At)), Identities(run.Host.Held.Sockets));
            Assert.Equal(SocketSetHash.Of(Set(run.Agent.Mask)), run.Host.Held.SetHash);
            Assert.All(run.Applied, applied => Assert.Equal(1, applied.Value));
        }, iter: 1_000);
    }

    /// <summary>An agent as it reports: a seq per report within its epoch, a snapshot first and after every RESYNC.</summary>
    private sealed class Agent
    {
        private ulong _nextEpoch = 0x100;

        public Agent(DateTime now) => NewEpoch(now);

        public ulong EpochId { get; private set; }
        public DateTime Started { get; private set; }
        public ulong Seq { get; private set; }
        public int Mask { get; private set; }

        /// <summary>The set the agent had at each (epoch, seq) it reported.</summary>
        public Dictionary<(ulong, ulong), int> History { get; } = [];

        public void NewEpoch(DateTime now) => (EpochId, Started, Seq) = (_nextEpoch++, now, 0);

        public HostReportInput Scan(int mask, DateTime now)
        {
            if (Seq == 0)
            {
                Mask = mask;
                return Snapshot(now);
            }

            if (mask == Mask) return Heartbeat(Set(Mask), now);
            var before = Set(Mask);
            Mask = mask;
            History[(EpochId, ++Seq)] = Mask;
            return Changes(EpochId, Started, Seq, before, Set(Mask), now);
        }

        public HostReportInput Snapshot(DateTime now)
        {
            History[(EpochId, ++Seq)] = Mask;
            return HostCatalog.Snapshot(EpochId, Started, Seq, Set(Mask), now);
        }

        public HostReportInput Heartbeat(HostSocket[] set, DateTime now) => HostCatalog.Heartbeat(EpochId, Started, Seq, set, now);

        /// <summary>
        /// The answer to a RESYNC: a snapshot with the next seq; when a snapshot of this epoch was refused, the server
        /// cannot take this epoch any more and a new one begins.
        /// </summary>
        public HostReportInput Resynced(HostReportInput refused, DateTime now)
        {
            if (refused.Kind == HostReportKind.Snapshot && refused.EpochId == EpochId) NewEpoch(now);
            return Snapshot(now);
        }
    }

    private sealed class Run
    {
        private readonly List<HostReportInput> _queue = [];
        private readonly List<HostReportInput> _sent = [];
        private DateTime _now = At;

        public Run() => Agent = new Agent(_now);

        public Agent Agent { get; }
        public HeldHost Host { get; } = new();
        public Dictionary<(ulong, ulong), int> Applied { get; } = [];

        public void Do(Step step, int value)
        {
            switch (step)
            {
                case Step.Scan:
                    Send(Agent.Scan(value, Tick()));
                    break;
                case Step.Deliver when _queue.Count > 0:
                    Deliver(Take());
                    break;
                case Step.Drop when _queue.Count > 0:
                    Take();
                    break;
                case Step.Swap when _queue.Count > 1:
                    (_queue[0], _queue[1]) = (_queue[1], _queue[0]);
                    break;
                case Step.Repeat when _queue.Count > 0:
                    Deliver(_queue[0]);
                    break;
                case Step.Replay when _sent.Count > 0:
                    Deliver(_sent[value % _sent.Count]);
                    break;
                case Step.Restart:
                    // The agent lost what it kept on disk: a new epoch, which begins with a snapshot.
                    Agent.NewEpoch(Tick());
                    Send(Agent.Snapshot(Tick()));
                    break;
            }
        }

        /// <summary>The delivery is reliable from here: what is queued arrives in order, then heartbeats until one is taken.</summary>
        public void Settle()
        {
            for (var round = 0; round < 4; round++)
            {
                while (_queue.Count > 0) Deliver(Take());
                if (Deliver(Agent.Heartbeat(Set(Agent.Mask), Tick())) is HostDecision.Alive) return;
            }

            Assert.Fail($"the agent and the server did not agree after four rounds (agent at epoch {Agent.EpochId:x} seq {Agent.Seq}, server at {Host.Held.EpochId:x} seq {Host.Held.Seq})");
        }

        /// <summary>Time moves on with everything the agent does: a new epoch always begins after the one before.</summary>
        private DateTime Tick() => _now = _now.AddSeconds(1);

        private void Send(HostReportInput report)
        {
            _queue.Add(report);
            _sent.Add(report);
        }

        private HostReportInput Take()
        {
            var report = _queue[0];
            _queue.RemoveAt(0);
            return report;
        }

        private HostDecision Deliver(HostReportInput report)
        {
            var decision = Host.Report(report);
            if (decision is HostDecision.Apply)
            {
                var key = (report.EpochId, report.Seq);
                Applied[key] = Applied.GetValueOrDefault(key) + 1;
                // What the server holds at a seq is what the agent had at it.
                Assert.Equal(Identities(Entries(Set(Agent.History[key]), At)), Identities(Host.Held.Sockets));
            }

            if (decision is HostDecision.Resync) Send(Agent.Resynced(report, Tick()));
            return decision;
        }
    }
}
