using Microsoft.Extensions.Time.Testing;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;

namespace PortHistory.Grains.Tests;

/// <summary>
/// "Yesterday" in a verdict's reason moves at UTC midnight: the past read for one day is never quoted on the next, the
/// answers that quoted it are withdrawn at midnight, and a past that cannot be read is asked again 30 seconds later.
/// </summary>
public sealed class QuotedPastTests
{
    private static readonly DateTimeOffset LateEvening = new(2026, 5, 1, 23, 59, 50, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(LateEvening);
    private readonly DayHistory _history = new();
    private readonly List<(Func<Task> Callback, TimeSpan Due)> _timers = [];
    private int _withdrawals;

    private QuotedPast Quoted() =>
        new(776, _history, _clock, (callback, due) =>
        {
            _timers.Add((callback, due));
            return new NoTimer();
        }, () => _withdrawals++);

    [Fact]
    public async Task At_midnight_the_answers_are_withdrawn_and_the_next_answer_quotes_the_new_yesterday()
    {
        var quoted = Quoted();
        Assert.Equal("squatter; past as of 2026-04-30", await ReasonAsync(quoted));
        Assert.Equal(TimeSpan.FromSeconds(10), _timers[^1].Due);

        _clock.Advance(TimeSpan.FromSeconds(15));
        await _timers[^1].Callback();

        Assert.Equal(1, _withdrawals);
        Assert.Equal("squatter; past as of 2026-05-01", await ReasonAsync(quoted));
        Assert.Equal(["2026-04-30", "2026-05-01"], _history.Reads);
    }

    [Fact]
    public async Task A_midnight_timer_that_has_not_fired_yet_still_never_quotes_the_day_before()
    {
        var quoted = Quoted();
        await ReasonAsync(quoted);

        _clock.Advance(TimeSpan.FromSeconds(15));

        Assert.Equal("squatter; past as of 2026-05-01", await ReasonAsync(quoted));
    }

    [Fact]
    public async Task A_past_that_cannot_be_read_is_left_out_and_asked_again_after_30_seconds()
    {
        var quoted = Quoted();
        _history.Unreadable = true;
        Assert.Equal("squatter", await ReasonAsync(quoted));

        _history.Unreadable = false;
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal("squatter", await ReasonAsync(quoted));
        Assert.Single(_history.Reads);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("squatter; past as of 2026-05-01", await ReasonAsync(quoted));
    }

    private static async Task<string> ReasonAsync(QuotedPast quoted)
    {
        var verdict = new Verdict { Reason = "squatter" };
        await quoted.QuoteAsync([verdict]);
        return verdict.Reason;
    }

    private sealed class DayHistory : IVerdictHistory
    {
        public List<string> Reads { get; } = [];

        public bool Unreadable { get; set; }

        public bool Quotes(Verdict verdict) => true;

        public Task<IVerdictPast?> ReadAsync(int port, DateOnly yesterday, CancellationToken cancellationToken)
        {
            Reads.Add(yesterday.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            return Task.FromResult<IVerdictPast?>(Unreadable ? null : new DayPast(yesterday));
        }
    }

    private sealed class DayPast(DateOnly yesterday) : IVerdictPast
    {
        public string? SuffixFor(Verdict verdict) => $"; past as of {yesterday:yyyy-MM-dd}";
    }

    private sealed class NoTimer : IGrainTimer
    {
        public void Change(TimeSpan dueTime, TimeSpan period)
        {
        }

        public void Dispose()
        {
        }
    }
}
