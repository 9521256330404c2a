using System.Diagnostics.Metrics;

namespace PortHistory.Server.Application.Telemetry;

/// <summary>The registry follower's instruments.</summary>
public sealed partial class PortHistoryMetrics
{
    /// <summary>
    /// The registry follower, per source: when it last fetched successfully and last saw a change (Unix seconds; 0
    /// never), consecutive failures, and fetches by outcome. Read from <paramref name="sources"/> at each collection.
    /// </summary>
    public void ObserveFollowing(Func<IReadOnlyList<(string Source, DateTimeOffset? LastSuccess, DateTimeOffset? LastChange, int Failures)>> sources)
    {
        _meter.CreateObservableGauge("porthistory.follow.last_success", () => sources().Select(s => Seconds(s.Source, s.LastSuccess)), "s",
            "When each followed source last answered (Unix time; 0 never)");
        _meter.CreateObservableGauge("porthistory.follow.last_change", () => sources().Select(s => Seconds(s.Source, s.LastChange)), "s",
            "When each followed source last gave a new edition (Unix time; 0 never)");
        _meter.CreateObservableGauge("porthistory.follow.consecutive_failures",
            () => sources().Select(s => new Measurement<int>(s.Failures, new KeyValuePair<string, object?>("source", s.Source))), "{failure}",
            "Fetches of each followed source that failed or were refused since its last success");

        static Measurement<double> Seconds(string source, DateTimeOffset? at) =>
            new(at?.ToUnixTimeMilliseconds() / 1000.0 ?? 0, new KeyValuePair<string, object?>("source", source));
    }

    /// <param name="outcome">unchanged, new_edition, refused or failed.</param>
    public void Fetched(string outcome) => _fetches.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
