using System.Globalization;
using Grpc.Core;

namespace PortHistory.Agent.Sending;

/// <summary>What a call came to after its retries: the answer, or the failure that ended it.</summary>
public sealed record RetriedCall<T>(T? Answer, RpcException? Failure, int Attempts) where T : class;

/// <summary>
/// How calls to the server are retried: the policy, how a wait is taken (tests record it instead of waiting) and where
/// the jitter comes from.
/// </summary>
public sealed class CallRetries(RetryPolicy? policy = null, Func<TimeSpan, CancellationToken, Task>? delay = null, Func<double>? jitter = null)
{
    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;
    private readonly Func<double> _jitter = jitter ?? Random.Shared.NextDouble;

    public RetryPolicy Policy { get; } = policy ?? RetryPolicy.Default;

    /// <summary>
    /// Calls until the server answers, fails in a way that retrying cannot fix, or the policy's attempts run out; each
    /// retry is logged as "<paramref name="what"/>: failure; retry n of m in s s".
    /// </summary>
    public async Task<RetriedCall<T>> CallAsync<T>(string what, Func<Task<T>> call, TextWriter log, CancellationToken cancellationToken) where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return new RetriedCall<T>(await call(), null, attempt);
            }
            catch (RpcException e) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("cancelled while sending", e, cancellationToken);
            }
            catch (RpcException e)
            {
                if (RetryPolicy.Classify(e.StatusCode) != FailureKind.Transient || attempt >= Policy.MaxAttempts) return new RetriedCall<T>(null, e, attempt);
                var wait = Policy.DelayBefore(attempt, e.Trailers, _jitter());
                await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: {Describe(e)}; retry {attempt} of {Policy.MaxAttempts - 1} in {wait.TotalSeconds:0.#} s"));
                await _delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>The status and the server's detail, made safe to print.</summary>
    public static string Describe(RpcException e) => e.Status.Detail.Length > 0 ? $"{e.StatusCode}: {ServerText.Printable(e.Status.Detail)}" : e.StatusCode.ToString();
}
