using System.Collections.Concurrent;
using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>What the simulated fleet saw during one phase of the run: answers by kind, push-back, failures, latencies.</summary>
internal sealed class FleetPhase(string name)
{
    public string Name { get; } = name;

    public long Snapshots;
    public long Changes;
    public long Heartbeats;
    public long Duplicates;
    public long ExpectedResyncs;
    public long UnexpectedResyncs;
    public long RetryAfters;
    public long Unavailable;
    public long Errors;
    /// <summary>Faults played and whether the server answered them as it must.</summary>
    public long FaultsAnsweredRight;
    public long FaultsAnsweredWrong;

    private readonly List<double> _heartbeatMilliseconds = [];
    public readonly ConcurrentQueue<string> Problems = new();

    /// <summary>Unavailable answers by the server's reason (a few distinct ones kept): a restart's are expected, others are worth a look.</summary>
    public readonly ConcurrentDictionary<string, long> UnavailableReasons = new(StringComparer.Ordinal);

    public void Accepted(HostReport.BodyOneofCase kind, HostReportOutcome outcome)
    {
        if (outcome == HostReportOutcome.Duplicate) Interlocked.Increment(ref Duplicates);
        switch (kind)
        {
            case HostReport.BodyOneofCase.Snapshot: Interlocked.Increment(ref Snapshots); break;
            case HostReport.BodyOneofCase.Changes: Interlocked.Increment(ref Changes); break;
            default: Interlocked.Increment(ref Heartbeats); break;
        }
    }

    public void HeartbeatTook(double milliseconds)
    {
        lock (_heartbeatMilliseconds) _heartbeatMilliseconds.Add(milliseconds);
    }

    public void Problem(string text)
    {
        if (Problems.Count < 20) Problems.Enqueue(text);
    }

    public void WasUnavailable(string reason)
    {
        Interlocked.Increment(ref Unavailable);
        if (UnavailableReasons.Count < 8 || UnavailableReasons.ContainsKey(reason)) UnavailableReasons.AddOrUpdate(reason, 1, (_, count) => count + 1);
    }

    public (double P50, double P99) HeartbeatLatency()
    {
        lock (_heartbeatMilliseconds)
        {
            if (_heartbeatMilliseconds.Count == 0) return (double.NaN, double.NaN);
            _heartbeatMilliseconds.Sort();
            return (_heartbeatMilliseconds[_heartbeatMilliseconds.Count / 2], _heartbeatMilliseconds[(int)(_heartbeatMilliseconds.Count * 0.99)]);
        }
    }

    public long Accepted() => Snapshots + Changes + Heartbeats;
}
