namespace PortHistory.Testing.Chaos;

/// <summary>What callers saw during one chaos scenario, and whether every acknowledged sighting was counted once.</summary>
/// <param name="P99ReadMs">The 99th percentile latency of reads started while the fault was under way.</param>
/// <param name="SecondsToVisible">From the end of reporting until every acknowledged sighting was visible; null if never.</param>
public sealed record ChaosFigures(
    string Scenario,
    long ReadsOk,
    long ReadsFailed,
    double P99ReadMs,
    long Acknowledged,
    long Lost,
    long Twice,
    double? SecondsToVisible,
    IReadOnlyList<string> FailedReads,
    IReadOnlyList<string>? Miscounted = null)
{
    /// <summary>For a silo killed as reporting ended: from then until the cluster declared it dead; null if never or not asked.</summary>
    public double? SecondsToDeclaredDead { get; init; }

    public override string ToString() =>
        $"{Scenario}: reads ok {ReadsOk}, failed {ReadsFailed}, p99 {P99ReadMs:0.0} ms; sightings acknowledged {Acknowledged}, lost {Lost}, twice {Twice}; " +
        $"visible after {(SecondsToVisible is { } s ? $"{s:0.0} s" : "never")}" +
        (SecondsToDeclaredDead is { } d ? $" (declared dead after {d:0.0} s)" : "") +
        (FailedReads.Count > 0 ? $"\nfailed reads:\n{string.Join('\n', FailedReads.Take(20))}" : "") +
        (Miscounted is { Count: > 0 } ? $"\nmiscounted ports:\n{string.Join('\n', Miscounted)}" : "");
}
