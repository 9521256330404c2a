using Orleans.Runtime;
using Polly;
using Polly.Retry;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Ports;

/// <summary>
/// Single-port reads from the port grains. They are idempotent, so one that fails because the grain's silo just died
/// (the call is refused, or the silo is known to be unavailable) is asked again, on the activation the cluster places
/// elsewhere once it has declared the silo dead, until the caller's deadline (at most <see cref="MaxRetryTime"/>):
/// readers do not see a silo's death.
/// </summary>
public sealed class PortReads(IGrainFactory grains)
{
    /// <summary>Longest a read is retried when the caller set no earlier deadline.</summary>
    public static readonly TimeSpan MaxRetryTime = TimeSpan.FromSeconds(30);

    // Short first waits: a refused call is often answered by the very next attempt, once the directory has moved on.
    private static readonly ResiliencePipeline Retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsSiloLoss(e)),
        MaxRetryAttempts = int.MaxValue,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromSeconds(1),
    }).Build();

    public Task<GetPortResponse> GetPortAsync(int port, PortQuery query, DateTime deadline, CancellationToken cancellationToken) =>
        ReadAsync(async () => (await grains.GetGrain<IPortGrain>(port).GetPortAsync(query)).Value, deadline, cancellationToken);

    public Task<GetTimelineResponse> GetTimelineAsync(int port, Transport transport, DateTime deadline, CancellationToken cancellationToken) =>
        ReadAsync(async () => (await grains.GetGrain<IPortGrain>(port).GetTimelineAsync(transport)).Value, deadline, cancellationToken);

    public Task<GetObservedResponse> GetObservedAsync(int port, Transport transport, bool includeHostRefs, DateTime deadline, CancellationToken cancellationToken) =>
        ReadAsync(async () => (await grains.GetGrain<IPortGrain>(port).GetObservedAsync(transport, includeHostRefs)).Value, deadline, cancellationToken);

    /// <summary>The silo holding the grain is gone or going; a timeout is not retried (the deadline would be spent waiting).</summary>
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
            return await Retry.ExecuteAsync(async _ =>
            {
                try
                {
                    return await read();
                }
                catch (Exception e) when (IsSiloLoss(e))
                {
                    last = e;
                    throw;
                }
            }, budget.Token);
        }
        catch (OperationCanceledException) when (last is not null && !cancellationToken.IsCancellationRequested)
        {
            // Out of time while the cluster still had no answer: the caller sees the failure, which maps to Unavailable.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(last);
            throw;
        }
    }
}
