using Polly;
using Polly.Retry;

namespace PortHistory.Server.Application.Resilience;

/// <summary>
/// The server's one retry rule for its own work (not callers'): exponential backoff with jitter, from a quarter second
/// up to half a minute, so a database that restarts is neither hammered by every silo at once nor waited on for long.
/// </summary>
public static class Backoff
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>Work that must happen eventually (start-up, listeners, the importer): retried until the server stops.</summary>
    public static ResiliencePipeline UntilStopped(ILogger logger, string what, Func<Exception, bool>? retryable = null) =>
        Build(int.MaxValue, logger, what, retryable);

    /// <summary>Work that gives up after <paramref name="attempts"/> tries, the last failure thrown to the caller.</summary>
    public static ResiliencePipeline Attempts(int attempts, ILogger logger, string what, Func<Exception, bool>? retryable = null) =>
        Build(attempts - 1, logger, what, retryable);

    private static ResiliencePipeline Build(int retries, ILogger logger, string what, Func<Exception, bool>? retryable) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is { } e && !args.Context.CancellationToken.IsCancellationRequested && (retryable?.Invoke(e) ?? true)),
            MaxRetryAttempts = retries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstDelay,
            MaxDelay = MaxDelay,
            OnRetry = args =>
            {
                logger.LogWarning("{What} failed (attempt {Attempt}): {Message}; retrying in {Delay:0.0} s",
                    what, args.AttemptNumber + 1, args.Outcome.Exception?.Message.Split('\n')[0], args.RetryDelay.TotalSeconds);
                return default;
            },
        }).Build();
}
