using System.Globalization;
using Grpc.Core;

namespace PortHistory.Agent.Sending;

/// <summary>What a failed ReportBatch call means for the batch and for the agent.</summary>
public enum FailureKind
{
    /// <summary>Worth sending again, with the same batch_id.</summary>
    Transient,

    /// <summary>Sending again will not help, but the next scan might (e.g. server without the Sightings service).</summary>
    Permanent,

    /// <summary>The agent itself is refused (token, role, request shape): stop and say so.</summary>
    Fatal,
}

/// <summary>Which failures are retried and how long to wait before each retry. Pure: no clock, no randomness of its own.</summary>
public sealed record RetryPolicy(TimeSpan BaseDelay, TimeSpan MaxDelay, int MaxAttempts)
{
    /// <summary>1 s, 2 s, 4 s ... capped at 30 s; eight attempts is about a minute and a half of outage per batch.</summary>
    public static RetryPolicy Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 8);

    /// <summary>A server asking for longer than this is capped, so that --once still ends.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    public static FailureKind Classify(StatusCode code) => code switch
    {
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Internal or StatusCode.Unknown =>
            FailureKind.Transient,
        StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.InvalidArgument => FailureKind.Fatal,
        _ => FailureKind.Permanent,
    };

    /// <summary>
    /// Exponential backoff before retry number <paramref name="retry"/> (1 = first retry), capped at <see cref="MaxDelay"/>.
    /// <paramref name="jitter"/> in [0, 1) spreads the wait over its upper half, so agents that failed together do not
    /// all come back at the same instant.
    /// </summary>
    public TimeSpan Backoff(int retry, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (jitter is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "must be in [0, 1)");
        // The exponent is clamped so that large retry numbers cannot overflow.
        var exponential = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry - 1, 30));
        var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (jitter / 2)));
    }

    /// <summary>
    /// The wait before a retry: what the server asked for when it said so, stretched by up to half again with
    /// <paramref name="jitter"/> (never shorter: a fleet reconnecting at once must not come back at once); else the backoff.
    /// </summary>
    public TimeSpan DelayBefore(int retry, Metadata? trailers, double jitter) =>
        RetryAfter(trailers) is { } asked ? asked * (1 + (Math.Clamp(jitter, 0, 1) / 2)) : Backoff(retry, jitter);

    /// <summary>
    /// The server's "retry-after" (seconds) or the finer "retry-after-ms" the PortHistory server sends alongside;
    /// null when absent or unreadable. Capped at <see cref="MaxRetryAfter"/>.
    /// </summary>
    public static TimeSpan? RetryAfter(Metadata? trailers)
    {
        if (trailers is null) return null;
        var milliseconds = Number(trailers.GetValue("retry-after-ms")) ?? Number(trailers.GetValue("retry-after")) * 1000;
        // Clamped before conversion: an absurd value must not overflow TimeSpan.
        return milliseconds is { } ms ? TimeSpan.FromMilliseconds(Math.Min(ms, MaxRetryAfter.TotalMilliseconds)) : null;
    }

    private static double? Number(string? text) =>
        double.TryParse(text?.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;
}
