using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.ServiceDefaults;

namespace PortHistory.Server.Application.Telemetry;

/// <summary>
/// PortHistory's own instruments, on the one meter named <see cref="ServiceDefaultsExtensions.TelemetryName"/>; every
/// name and unit is here. What is recorded on the hot paths (GetPort, ReportBatch, token checks) takes a timestamp
/// and at most one tag whose value is a constant string: nothing is allocated per call.
/// </summary>
public sealed partial class PortHistoryMetrics
{
    private static readonly double[] LatencyBuckets =
        [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private static readonly double[] ImportBuckets = [1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600];

    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _batches;
    private readonly Histogram<double> _acknowledgement;
    private readonly Histogram<double> _getPort;
    private readonly Histogram<double> _importDuration;
    private readonly Counter<long> _rateLimitRefusals;
    private readonly Counter<long> _fetches;

    // Token checks and calls happen on every request: counted in plain fields the scrape reads, so a call pays no
    // measurement. The set of methods is the gateway's services', known at start.
    private readonly long[] _tokenLookups = new long[Enum.GetValues<TokenLookup>().Length];
    private readonly long[] _getPortAnswers = new long[Enum.GetValues<AnswerSource>().Length];
    private long _watchEventsUnstored;
    private readonly ConcurrentDictionary<string, CallCounts> _calls = new(StringComparer.Ordinal);

    // The importer's newest progress; read by the gauges at each collection.
    private int _importStage;
    private int _importPortsStaged;
    private int _importPortsToStage;

    public PortHistoryMetrics(IMeterFactory meters) : this(meters.Create(ServiceDefaultsExtensions.TelemetryName))
    {
    }

    /// <summary>On a meter of its own, for tests.</summary>
    public PortHistoryMetrics() : this(new Meter(ServiceDefaultsExtensions.TelemetryName))
    {
    }

    private PortHistoryMetrics(Meter meter)
    {
        _meter = meter;
        _accepted = meter.CreateCounter<long>("porthistory.sightings.accepted", "{sighting}",
            "Sightings recorded in the journal (a resent batch's are counted once, when first recorded)");
        _rejected = meter.CreateCounter<long>("porthistory.sightings.rejected", "{sighting}",
            "Sightings rejected by validation; the rest of their batch goes on");
        _batches = meter.CreateCounter<long>("porthistory.sightings.batches", "{batch}",
            "Batches answered, by outcome: recorded, duplicate (recorded before), empty (nothing valid), refused (invalid as a whole)");
        _acknowledgement = meter.CreateHistogram("porthistory.sightings.acknowledgement.duration", "s",
            "From a batch's arrival to its acknowledgement, once durable in the journal", advice: Buckets(LatencyBuckets));
        _getPort = meter.CreateHistogram("porthistory.getport.duration", "s",
            "GetPort answers that took a grain call (source grain): a board answer takes no measurable time and is only counted", advice: Buckets(LatencyBuckets));
        meter.CreateObservableCounter("porthistory.getport.answers", GetPortAnswers, "{call}",
            "GetPort answers by source: board (what an activation on this silo published, no grain call) or grain (a grain call)");
        _importDuration = meter.CreateHistogram("porthistory.import.duration", "s",
            "Applying pending editions in one generation, by outcome: committed or failed", advice: Buckets(ImportBuckets));
        meter.CreateObservableGauge("porthistory.import.stage", () => Volatile.Read(ref _importStage), "{stage}",
            "The importer's newest stage (ImportStage: 4 staging, 5 indexing, 6 committed; 0 none yet, or failed)");
        meter.CreateObservableGauge("porthistory.import.ports.staged", () => Volatile.Read(ref _importPortsStaged), "{port}",
            "Ports staged so far by the newest import");
        meter.CreateObservableGauge("porthistory.import.ports.to_stage", () => Volatile.Read(ref _importPortsToStage), "{port}",
            "Ports the newest import stages in all");
        _rateLimitRefusals = meter.CreateCounter<long>("porthistory.rate_limit.refusals", "{call}",
            "Calls refused ResourceExhausted, by limit: sightings (rate per token), concurrent_calls (per token), watch_streams (open per token), enrollments (per secret or credential)");
        _fetches = meter.CreateCounter<long>("porthistory.follow.fetches", "{fetch}",
            "Fetches of followed sources by outcome: unchanged (304 or the same bytes), new_edition, refused (not an edition to add), failed");
        meter.CreateObservableCounter("porthistory.rpc.calls", Calls, "{call}",
            "Calls answered (gRPC and HTTP/JSON), by rpc.service, rpc.method and rpc.grpc.status_code (0 OK; 16 UNAUTHENTICATED, 8 RESOURCE_EXHAUSTED, …)");
        meter.CreateObservableCounter("porthistory.hosts.reports", HostReports, "{report}",
            "Differential host reports answered, by kind (heartbeat, changes, snapshot) and outcome (applied, duplicate, resync)");
        meter.CreateObservableCounter("porthistory.hosts.heartbeats.in_memory", () => Volatile.Read(ref _heartbeatsInMemory), "{report}",
            "Heartbeats this silo answered from its pulse board, without a call to the host's grain (the rest of porthistory.hosts.reports{kind=heartbeat} took one)");
        meter.CreateObservableCounter("porthistory.watch.events.unstored", () => Volatile.Read(ref _watchEventsUnstored), "{event}",
            "Watch events a port grain could not store when it raised them (each failed try counts them): kept and raised again, or the change they describe fails");
        meter.CreateObservableCounter("porthistory.tokens.lookups", TokenLookups, "{lookup}",
            "Bearer tokens checked, by result: hit (cached valid), negative_hit (cached unknown), miss (read from PostgreSQL), malformed (not shaped like a token)");
    }

    /// <summary>A timestamp for the durations below (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static long Now() => Stopwatch.GetTimestamp();

    public void BatchAnswered(BatchOutcome outcome, int accepted, int rejected)
    {
        if (accepted > 0) _accepted.Add(accepted);
        if (rejected > 0) _rejected.Add(rejected);
        _batches.Add(1, new KeyValuePair<string, object?>("outcome", Name(outcome)));
    }

    public void BatchAcknowledged(long started) => _acknowledgement.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);

    /// <summary>
    /// A GetPort answered from the silo's board: counted in a plain field. It returns an answer already there, so
    /// timing it would measure the two clock reads and the histogram's own update, which were most of what it cost.
    /// </summary>
    public void GetPortFromBoard() => Interlocked.Increment(ref _getPortAnswers[(int)AnswerSource.Board]);

    /// <summary>A GetPort answered by a grain call, timed from <paramref name="started"/>.</summary>
    public void GetPortFromGrain(long started)
    {
        Interlocked.Increment(ref _getPortAnswers[(int)AnswerSource.Grain]);
        _getPort.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("source", "grain"));
    }

    private IEnumerable<Measurement<long>> GetPortAnswers() =>
        Enum.GetValues<AnswerSource>().Select(source => new Measurement<long>(Volatile.Read(ref _getPortAnswers[(int)source]),
            new KeyValuePair<string, object?>("source", source == AnswerSource.Board ? "board" : "grain")));

    public void ImportFinished(bool committed, TimeSpan elapsed) =>
        _importDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", committed ? "committed" : "failed"));

    public void ImportProgressed(ImportStage stage, int done, int total)
    {
        Volatile.Write(ref _importStage, (int)stage);
        Volatile.Write(ref _importPortsStaged, done);
        Volatile.Write(ref _importPortsToStage, total);
    }

    public void RateLimited(RateLimit limit) =>
        _rateLimitRefusals.Add(1, new KeyValuePair<string, object?>("limit", limit switch
        {
            RateLimit.Sightings => "sightings",
            RateLimit.ConcurrentCalls => "concurrent_calls",
            RateLimit.WatchStreams => "watch_streams",
            RateLimit.FailedAuthentications => "failed_authentications",
            _ => "enrollments",
        }));

    public void WatchEventsUnstored(int count) => Interlocked.Add(ref _watchEventsUnstored, count);

    /// <summary>Watch events not stored at a try, so far.</summary>
    public long UnstoredWatchEvents => Volatile.Read(ref _watchEventsUnstored);

    public void TokenLookedUp(TokenLookup result) => Interlocked.Increment(ref _tokenLookups[(int)result]);

    /// <param name="method">The call's path, "/package.Service/Method".</param>
    public void CallAnswered(string method, StatusCode status)
    {
        var counts = _calls.GetOrAdd(method, static path => new CallCounts(path)).ByStatus;
        Interlocked.Increment(ref counts[(uint)status < (uint)counts.Length ? (int)status : (int)StatusCode.Unknown]);
    }

    private IEnumerable<Measurement<long>> Calls()
    {
        foreach (var calls in _calls.Values)
        {
            for (var status = 0; status < calls.ByStatus.Length; status++)
            {
                var count = Volatile.Read(ref calls.ByStatus[status]);
                if (count == 0) continue;
                yield return new Measurement<long>(count, new("rpc.service", calls.Service), new("rpc.method", calls.Method),
                    new("rpc.grpc.status_code", status));
            }
        }
    }

    private sealed class CallCounts(string path)
    {
        public string Service { get; } = path.TrimStart('/').Split('/')[0];

        public string Method { get; } = path[(path.LastIndexOf('/') + 1)..];

        /// <summary>By gRPC status code, 0 (OK) to 16 (UNAUTHENTICATED).</summary>
        public long[] ByStatus { get; } = new long[(int)StatusCode.Unauthenticated + 1];
    }

    private IEnumerable<Measurement<long>> TokenLookups() =>
        Enum.GetValues<TokenLookup>().Select(result => new Measurement<long>(Volatile.Read(ref _tokenLookups[(int)result]),
            new KeyValuePair<string, object?>("result", result switch
            {
                TokenLookup.Hit => "hit",
                TokenLookup.NegativeHit => "negative_hit",
                TokenLookup.Miss => "miss",
                TokenLookup.Throttled => "throttled",
                TokenLookup.Busy => "busy",
                _ => "malformed",
            })));

    /// <summary>
    /// Journal lag: sightings acknowledged (durable) and still waiting in memory for their port grains, and how long
    /// the oldest of them has waited. Read from <paramref name="backlog"/> at each collection.
    /// </summary>
    public void ObserveUndelivered(Func<(long Sightings, TimeSpan Oldest)> backlog)
    {
        _meter.CreateObservableGauge("porthistory.journal.undelivered", () => backlog().Sightings, "{sighting}",
            "Sightings acknowledged and not yet delivered to their port grains");
        _meter.CreateObservableGauge("porthistory.journal.undelivered.age", () => backlog().Oldest.TotalSeconds, "s",
            "How long the oldest undelivered sighting has waited (0 when none waits)");
    }

    private static string Name(BatchOutcome outcome) => outcome switch
    {
        BatchOutcome.Recorded => "recorded",
        BatchOutcome.Duplicate => "duplicate",
        BatchOutcome.Empty => "empty",
        _ => "refused",
    };

    private static InstrumentAdvice<double> Buckets(double[] boundaries) => new() { HistogramBucketBoundaries = boundaries };
}

public enum BatchOutcome
{
    Recorded,
    Duplicate,
    Empty,
    Refused,
}

public enum AnswerSource
{
    Board,
    Grain,
}

public enum RateLimit
{
    Sightings,
    ConcurrentCalls,
    Enrollments,
    WatchStreams,
    FailedAuthentications,
}

public enum TokenLookup
{
    Hit,
    NegativeHit,
    Miss,
    Malformed,

    /// <summary>Refused without a lookup: the caller's address failed too many authentications.</summary>
    Throttled,

    /// <summary>Refused without a lookup: the lookups waiting for PostgreSQL were at their bound.</summary>
    Busy,
}
