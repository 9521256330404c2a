using Polly;
using Polly.Retry;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Ports;

/// <summary>
/// Single-port reads from the port grains. They are idempotent, so one that fails because the grain's silo just died
/// (the call is refused, or the silo is known to be unavailable) is asked again, on the activation the cluster places
/// elsewhere once it has declared the silo dead, until the caller's deadline (at most <see cref="MaxRetryTime"/>):
/// readers do not see a silo's death. An attempt with no answer after <see cref="AttemptTime"/> is asked again too: a
/// call sent to a silo as it is killed can wait for its answer until the grain call timeout, as long as callers wait
/// (seen in the chaos tests: one read in a few thousand).
/// </summary>
public sealed class PortReads(KeyedGrains grains)
{
    /// <summary>Longest a read is retried when the caller set no earlier deadline.</summary>
    public static readonly TimeSpan MaxRetryTime = TimeSpan.FromSeconds(30);

    /// <summary>Longest one attempt is waited for; an answer takes milliseconds, a grain queued behind an import's writes seconds.</summary>
    public static readonly TimeSpan AttemptTime = TimeSpan.FromSeconds(10);

    // Short first waits: a refused call is often answered by the very next attempt, once the directory has moved on.
    private static readonly ResiliencePipeline Retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && (IsSiloLoss(e) || e is TimeoutException)),
        MaxRetryAttempts = int.MaxValue,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromSeconds(1),
    }).Build();

    public Task<GetPortResponse> GetPortAsync(int port, PortQuery query, DateTime deadline, CancellationToken cancellationToken) =>
        ReadAsync(async () => (await grains.Port(port).GetPortAsync(query)).Value, deadline, cancellationToken);

    public Task<GetTimelineResponse> GetTimelineAsync(int port, Transport transport, DateTime deadline, CancellationToken cancellationToken) =>
        ReadAsync(async () => (await grains.Port(port).GetTimelineAsync(transport)).Value, deadline, cancellationToken);

    public Task<GetObservedResponse> GetObservedAsync(int port, Transport transport, bool includeHostRefs, DateTime deadline, CancellationToken cancellationToken) =>
        ReadAsync(async () => (await grains.Port(port).GetObservedAsync(transport, includeHostRefs)).Value, deadline, cancellationToken);

    /// <summary>The silo holding the grain is gone or going.</summary>
    public static bool IsSiloLoss(Exception exception) =>
        exception is SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException;

    private static async Task<T> ReadAsync<T>(Func<Task<T>> read, DateTime deadline, CancellationToken cancellationToken)
    {
        var left = deadline == DateTime.MaxValue ? MaxRetryTime : deadline.ToUniversalTime() - DateTime.UtcNow;
        // No time left for a retry: one attempt, its failure as it is.
        if (left <= TimeSpan.Zero) return await read();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(left < MaxRetryTime ? left : MaxRetryTime);
        Exception? last = null;
        try
        {
            return await Retry.ExecuteAsync(async token =>
            {
                try
                {
                    // An attempt given up on still completes on its own; a read changes nothing, so asking again is safe.
                    return await read().WaitAsync(AttemptTime, token);
                }
                catch (Exception e) when (IsSiloLoss(e) || e is TimeoutException)
                {
                    last = e;
                    throw;
                }
            }, budget.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Out of time while the cluster still had no answer: the caller sees the failure, which maps to Unavailable.
            if (last is null) throw new TimeoutException("the port's grain did not answer before the deadline");
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(last);
            throw;
        }
    }
}
