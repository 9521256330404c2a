using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Tests.Usage;

/// <summary>The spike rule: a day far above the median of its baseline days (by deviations and by a minimum rise), and nothing else.</summary>
public sealed class UsageSpikeTests
{
    private static readonly DateOnly Day = new(2026, 6, 30);

    [Fact]
    public void A_jump_far_above_a_steady_baseline_is_a_spike_and_the_usual_wobble_is_not()
    {
        Assert.Equal((120, 40.0, 0.0), UsageSignals.Spike(Candidate(40, 28, 120), Day, 28, 6, 10));
        // A noisy port: 40 ± 10 every other day; 60 is within its own deviation.
        var noisy = Candidate(Enumerable.Range(0, 28).Select(i => i % 2 == 0 ? 30 : 50).Append(60).ToArray());
        Assert.Null(UsageSignals.Spike(noisy, Day, 28, 6, 10));
        // A small port doubling from 2 to 4 hosts: above the deviations, below the minimum rise.
        Assert.Null(UsageSignals.Spike(Candidate(2, 28, 4), Day, 28, 6, 10));
    }

    [Fact]
    public void A_day_no_higher_than_its_baseline_median_is_never_a_spike_and_one_far_above_any_baseline_always_is()
    {
        Gen.Int[0, 500].Array[29].Sample(levels =>
        {
            var baseline = levels.Take(28).Order().ToArray();
            var median = (baseline[13] + baseline[14]) / 2;
            Assert.Null(UsageSignals.Spike(Candidate([.. levels.Take(28), Math.Min(levels[28], median)]), Day, 28, 1, 1));
            // Above the highest baseline day by more than six times the whole baseline's range: always flagged.
            var far = baseline[^1] + 6 * (baseline[^1] - baseline[0] + 1) + 10;
            Assert.NotNull(UsageSignals.Spike(Candidate([.. levels.Take(28), far]), Day, 28, 6, 10));
        });
    }

    private static SpikeCandidate Candidate(int steady, int days, int last) => Candidate([.. Enumerable.Repeat(steady, days), last]);

    /// <summary>Daily levels from 28 days before <see cref="Day"/> to it, as the rows that give them (starts on their day, stops at the end of the day before).</summary>
    private static SpikeCandidate Candidate(int[] levels)
    {
        var from = Day.AddDays(-(levels.Length - 1));
        var rows = UsageLoadDeltas.Of(80, Transport.Tcp, 0, false, [.. levels.Select((l, i) => (from.AddDays(i), l)).Where(d => d.l > 0)])
            .Select(d => new StoredUsageRow(Transport.Tcp, 0, false, d.Day, d.Added, d.Removed)).ToList();
        return new SpikeCandidate(80, Transport.Tcp, 0, rows);
    }
}
