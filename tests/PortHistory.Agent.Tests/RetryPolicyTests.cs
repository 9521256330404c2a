using Grpc.Core;
using PortHistory.Agent.Sending;

namespace PortHistory.Agent.Tests;

public sealed class RetryPolicyTests
{
    private static readonly RetryPolicy Policy = RetryPolicy.Default;

    [Theory]
    [InlineData(StatusCode.Unavailable, FailureKind.Transient)]
    [InlineData(StatusCode.DeadlineExceeded, FailureKind.Transient)]
    [InlineData(StatusCode.ResourceExhausted, FailureKind.Transient)]
    [InlineData(StatusCode.Internal, FailureKind.Transient)]
    [InlineData(StatusCode.Unknown, FailureKind.Transient)]
    [InlineData(StatusCode.Unauthenticated, FailureKind.Fatal)]
    [InlineData(StatusCode.PermissionDenied, FailureKind.Fatal)]
    [InlineData(StatusCode.InvalidArgument, FailureKind.Fatal)]
    [InlineData(StatusCode.Unimplemented, FailureKind.Permanent)]
    [InlineData(StatusCode.NotFound, FailureKind.Permanent)]
    [InlineData(StatusCode.FailedPrecondition, FailureKind.Permanent)]
    public void Status_codes_are_classified(StatusCode code, FailureKind expected) => Assert.Equal(expected, RetryPolicy.Classify(code));

    [Fact]
    public void Backoff_doubles_from_one_second_up_to_the_thirty_second_cap()
    {
        // jitter just under 1 gives (almost) the full exponential value.
        var full = Enumerable.Range(1, 8).Select(retry => Math.Round(Policy.Backoff(retry, 0.999999).TotalSeconds, 3)).ToArray();
        Assert.Equal([1.0, 2, 4, 8, 16, 30, 30, 30], full);
    }

    [Fact]
    public void Jitter_spreads_the_wait_over_the_upper_half()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Policy.Backoff(3, 0));
        Assert.Equal(TimeSpan.FromSeconds(3), Policy.Backoff(3, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(15), Policy.Backoff(50, 0));
    }

    [Fact]
    public void Huge_retry_numbers_stay_at_the_cap()
    {
        Assert.Equal(TimeSpan.FromSeconds(15), Policy.Backoff(int.MaxValue, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy.Backoff(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy.Backoff(1, 1));
    }

    [Theory]
    [InlineData("retry-after", "3", 3000.0)]
    [InlineData("retry-after", " 2 ", 2000.0)]
    [InlineData("retry-after", "0.25", 250.0)]
    [InlineData("retry-after-ms", "1500", 1500.0)]
    [InlineData("retry-after", "99999999999999999999999", 300_000.0)]
    [InlineData("retry-after", "-1", null)]
    [InlineData("retry-after", "soon", null)]
    [InlineData("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT", null)]
    [InlineData("x-retry", "3", null)]
    public void Retry_after_is_read_from_the_trailers(string key, string value, double? expectedMilliseconds)
    {
        var trailers = new Metadata { { key, value } };

        Assert.Equal(expectedMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null, RetryPolicy.RetryAfter(trailers));
    }

    [Fact]
    public void The_finer_retry_after_ms_wins_over_retry_after()
    {
        // The PortHistory server sends both: ceil(seconds) and the exact milliseconds.
        var trailers = new Metadata { { "retry-after-ms", "1200" }, { "retry-after", "2" } };

        Assert.Equal(TimeSpan.FromMilliseconds(1200), RetryPolicy.RetryAfter(trailers));
    }

    [Fact]
    public void The_server_s_retry_after_replaces_the_backoff_when_present()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), Policy.DelayBefore(1, new Metadata { { "retry-after", "7" } }, 0));
        // Jitter spreads what the server asked for over [asked, 1.5 × asked): never sooner than asked.
        Assert.Equal(TimeSpan.FromSeconds(8.75), Policy.DelayBefore(1, new Metadata { { "retry-after", "7" } }, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(2500 * 1.25), Policy.DelayBefore(1, new Metadata { { "retry-after-ms", "2500" } }, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(4), Policy.DelayBefore(4, new Metadata(), 0));
        Assert.Equal(TimeSpan.FromSeconds(4), Policy.DelayBefore(4, null, 0));
    }
}
