using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Sending;

public enum BatchStatus
{
    /// <summary>The server answered for the batch (its sightings accepted, rejected one by one, or already recorded).</summary>
    Acknowledged,

    /// <summary>The server refused the batch as a whole (bad batch_id, too many sightings); nothing was recorded.</summary>
    Refused,

    /// <summary>No answer: retries ran out, or the failure was not worth retrying.</summary>
    Failed,
}

public sealed record BatchOutcome(string BatchId, BatchStatus Status, BatchResult? Result, int Attempts);

public sealed record SendSummary(int Batches, int Acknowledged, long Accepted, long Rejected, int Duplicates)
{
    public bool AllAcknowledged => Acknowledged == Batches;
}

/// <summary>The server refused the agent itself (token, role, request shape): retrying or carrying on cannot help.</summary>
public sealed class ServerRefusedException(string message, StatusCode code, Exception inner) : Exception(message, inner)
{
    public StatusCode Code { get; } = code;
}

/// <summary>
/// Sends batches with ReportBatch. A transient failure is retried with the same batch_id, so when only the
/// acknowledgement was lost the server recognises the batch and counts it once.
/// </summary>
public sealed class BatchSender(Sightings.SightingsClient client, Func<string> token, TextWriter output, TextWriter error, CallRetries? retries = null)
{
    /// <summary>Longest wait for one attempt; a server that takes longer is treated as unavailable and retried.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    private const int RejectionsShown = 10;

    private readonly CallRetries _retries = retries ?? new CallRetries();

    /// <summary>Cuts the sightings into batches of at most <paramref name="batchSize"/>, each with a new batch_id.</summary>
    public static IReadOnlyList<SightingBatch> Split(IReadOnlyList<Sighting> sightings, int batchSize, string hostGroup = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return [.. sightings.Chunk(batchSize).Select(chunk =>
        {
            var batch = new SightingBatch { BatchId = Guid.NewGuid().ToString(), HostGroup = hostGroup };
            batch.Sightings.AddRange(chunk);
            return batch;
        })];
    }

    public async Task<SendSummary> SendAsync(IReadOnlyList<SightingBatch> batches, CancellationToken cancellationToken)
    {
        int acknowledged = 0, duplicates = 0;
        long accepted = 0, rejected = 0;
        foreach (var batch in batches)
        {
            var outcome = await SendBatchAsync(batch, cancellationToken);
            if (outcome.Status != BatchStatus.Acknowledged || outcome.Result is not { } result) continue;
            acknowledged++;
            accepted += result.Accepted;
            rejected += result.Rejected.Count;
            if (result.Duplicate) duplicates++;
        }

        return new SendSummary(batches.Count, acknowledged, accepted, rejected, duplicates);
    }

    public async Task<BatchOutcome> SendBatchAsync(SightingBatch batch, CancellationToken cancellationToken)
    {
        var call = await _retries.CallAsync($"batch {batch.BatchId}", () =>
        {
            var headers = new Metadata { { "authorization", $"Bearer {token()}" } };
            return client.ReportBatchAsync(batch, headers, DateTime.UtcNow + AttemptTimeout, cancellationToken).ResponseAsync;
        }, error, cancellationToken);
        if (call.Answer is { } result) return await ReportAsync(batch, result, call.Attempts);

        var failure = call.Failure!;
        switch (RetryPolicy.Classify(failure.StatusCode))
        {
            case FailureKind.Fatal:
                throw new ServerRefusedException(RefusalMessage(failure), failure.StatusCode, failure);
            case FailureKind.Permanent:
                await error.WriteLineAsync($"batch {batch.BatchId}: failed, not retried: {Describe(failure)}");
                break;
            default:
                await error.WriteLineAsync($"batch {batch.BatchId}: giving up after {call.Attempts} attempts: {Describe(failure)}");
                break;
        }

        return new BatchOutcome(batch.BatchId, BatchStatus.Failed, null, call.Attempts);
    }

    private async Task<BatchOutcome> ReportAsync(SightingBatch batch, BatchResult result, int attempts)
    {
        if (result.Error.Length > 0)
        {
            await output.WriteLineAsync($"batch {batch.BatchId}: refused: {ServerText.Printable(result.Error)}");
            return new BatchOutcome(batch.BatchId, BatchStatus.Refused, result, attempts);
        }

        await output.WriteLineAsync(result.Duplicate
            ? $"batch {batch.BatchId}: duplicate, already recorded ({result.Accepted} accepted then)"
            : $"batch {batch.BatchId}: {result.Accepted} accepted, {result.Rejected.Count} rejected");
        foreach (var rejection in result.Rejected.Take(RejectionsShown))
        {
            var what = rejection.Index < batch.Sightings.Count ? Label(batch.Sightings[(int)rejection.Index]) : "?";
            await output.WriteLineAsync($"  rejected #{rejection.Index} ({what}) {ServerText.Printable(rejection.Field)}: {ServerText.Printable(rejection.Reason)}");
        }

        if (result.Rejected.Count > RejectionsShown) await output.WriteLineAsync($"  ... and {result.Rejected.Count - RejectionsShown} more rejected");
        return new BatchOutcome(batch.BatchId, BatchStatus.Acknowledged, result, attempts);
    }

    private static string Label(Sighting s)
    {
        var transport = s.Transport == Transport.Udp ? "udp" : "tcp";
        var address = s.AddressFamily == AddressFamily.Ipv6 ? $"[{s.LocalAddress}]" : s.LocalAddress;
        var process = s.ProcessName.Length > 0 ? s.ProcessName : "unknown process";
        return $"{transport} {address}:{s.Port} {process}";
    }

    private static string Describe(RpcException e) => CallRetries.Describe(e);

    internal static string RefusalMessage(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unauthenticated => $"the server did not accept the token ({Describe(e)}); check --token, --token-file or $PORTHISTORY_TOKEN",
        StatusCode.PermissionDenied => $"the token may not report sightings ({Describe(e)}); it needs the agent role",
        _ => $"the server refused the request as invalid ({Describe(e)})",
    };
}
