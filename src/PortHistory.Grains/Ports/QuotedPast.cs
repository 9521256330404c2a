using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// The port's observed past that its verdict reasons quote, read once a UTC day by the first answer that needs it.
/// At midnight "yesterday" moves: the past is dropped and the answers that quoted it are withdrawn, so that the
/// silo's answer board never serves yesterday's count a day late. A read that fails leaves the reasons without the
/// past (never another day's) and is tried again a little later.
/// </summary>
internal sealed class QuotedPast(int port, IVerdictHistory history, TimeProvider clock, Func<Func<Task>, TimeSpan, IGrainTimer> startTimer,
    Action answersChanged)
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    private IVerdictPast? _past;
    private DateOnly _readFor;
    private DateTime _retryAt;
    private IGrainTimer? _timer;

    // Answers interleave (they are read-only calls): the ones that arrive while the past is being read wait for that read.
    private Task? _reading;

    /// <summary>Ends the reasons of the verdicts that quote the past with it, reading today's first if it is not held.</summary>
    public async Task QuoteAsync(IEnumerable<Verdict> verdicts)
    {
        var quoting = verdicts.Where(history.Quotes).ToList();
        if (quoting.Count == 0) return;
        var now = clock.GetUtcNow().UtcDateTime;
        var yesterday = DateOnly.FromDateTime(now).AddDays(-1);
        if (_readFor != yesterday && now >= _retryAt)
        {
            var reading = _reading ??= ReadAsync(yesterday, now);
            try
            {
                await reading;
            }
            finally
            {
                if (ReferenceEquals(_reading, reading)) _reading = null;
            }
        }

        if (_readFor != yesterday || _past is null) return;
        foreach (var verdict in quoting)
        {
            if (_past.SuffixFor(verdict) is { } suffix) verdict.Reason += suffix;
        }
    }

    private async Task ReadAsync(DateOnly yesterday, DateTime now)
    {
        IVerdictPast? past;
        try
        {
            past = await history.ReadAsync(port, yesterday, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The past only adds to a reason: an answer goes without it rather than fail.
            past = null;
        }

        if (past is null)
        {
            _retryAt = now + RetryAfter;
            Forget(after: RetryAfter);
            return;
        }

        (_past, _readFor) = (past, yesterday);
        Forget(after: DateOnly.FromDateTime(now).AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) - now);
    }

    /// <summary>After <paramref name="after"/>, the answers given so far are withdrawn (and, at midnight, the past dropped).</summary>
    private void Forget(TimeSpan after)
    {
        _timer?.Dispose();
        _timer = startTimer(() =>
        {
            if (_readFor != DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(-1)) (_past, _readFor) = (null, default);
            answersChanged();
            return Task.CompletedTask;
        }, after);
    }
}
