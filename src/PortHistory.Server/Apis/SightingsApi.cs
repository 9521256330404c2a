using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Resilience;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.Sightings: validates a batch (bad sightings are rejected with field and reason, the rest go on),
/// applies the agent's rate limit and its credential's host binding, and answers only once the batch is durable.
/// </summary>
// Seven dependencies: the two ingest paths (sightings and host reports), validation, the rate, authorization, and options and metrics.
public sealed class SightingsApi(
    SightingValidator validator,
    ISightingRecorder recorder,
    IHostReports hosts,
    SightingRateLimiter limiter,
    CallAuthorization authorization,
    IOptions<SightingOptions> options,
    PortHistoryMetrics metrics)
    : Sightings.SightingsBase
{
    public override async Task<BatchResult> ReportBatch(SightingBatch request, ServerCallContext context) =>
        await RecordAsync(request, context);

    public override async Task<HostReportResult> ReportHost(HostReport request, ServerCallContext context)
    {
        var principal = CallAuthorization.PrincipalOf(context);
        // A heartbeat costs one sighting's worth of the agent's rate, a change or snapshot one per socket.
        Charge(principal, Math.Max(1, request.Changes?.Added.Count + request.Changes?.Removed.Count ?? request.Snapshot?.Sockets.Count ?? 1));
        if (principal.HostRef is { } bound && !string.Equals(bound, request.HostRef, StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"host_ref: this credential reports for host \"{bound}\" only"));
        }

        var outcome = await hosts.ReportAsync(request, context.CancellationToken);
        if (outcome.RetryAfter is { } wait) throw TryLater("the server is catching up with its hosts", wait);
        if (outcome.Refusal is { } refusal)
        {
            throw refusal.TooLarge
                ? new RpcException(new Status(StatusCode.ResourceExhausted, $"{refusal.Field}: {refusal.Reason}"))
                : Requests.Invalid(refusal.Field, refusal.Reason);
        }

        metrics.HostReported(request.BodyCase, outcome.Result!.Outcome);
        if (outcome.InMemory) metrics.HeartbeatAnsweredInMemory();
        return outcome.Result;
    }

    public override async Task<ReportResponse> Report(IAsyncStreamReader<SightingBatch> requestStream, ServerCallContext context)
    {
        var response = new ReportResponse();
        var limit = options.Value.MaxBatchesPerStream;
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            // The answer holds a result per batch: a stream without end would hold them without end.
            if (response.Batches.Count >= limit)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"a Report stream takes at most {limit} batches; the first {limit} are recorded, send the rest on a new stream"));
            }

            // A stream outlives a revocation: its token is checked again (from the cache) for every batch.
            await authorization.AuthorizeAgainAsync(context);
            response.Batches.Add(await RecordAsync(batch, context));
        }

        return response;
    }

    private async Task<BatchResult> RecordAsync(SightingBatch batch, ServerCallContext context)
    {
        var started = PortHistoryMetrics.Now();
        // Every batch costs, the empty and the refused ones too (at least one sighting's worth): validating and
        // answering them is work, and a flood of them must meet the limit like any other.
        var principal = CallAuthorization.PrincipalOf(context);
        Charge(principal, Math.Max(1, batch.Sightings.Count));

        // Before anything of it is validated or recorded: a host's credential that names another host is refused whole.
        if (HostBinding.Refusal(principal.HostRef, batch) is { } refusal) throw new RpcException(new Status(StatusCode.PermissionDenied, refusal));

        var validated = validator.Validate(batch);
        var result = new BatchResult { BatchId = batch.BatchId.Length <= 64 ? batch.BatchId : "" };
        result.Rejected.AddRange(validated.Rejected);
        if (validated.Error is not null)
        {
            result.Error = validated.Error;
            metrics.BatchAnswered(BatchOutcome.Refused, 0, validated.Rejected.Count);
            return result;
        }

        // Nothing to record: no journal transaction and no batch row (a retry gives the same answer anyway).
        if (validated.Accepted.Count == 0)
        {
            metrics.BatchAnswered(BatchOutcome.Empty, 0, validated.Rejected.Count);
            return result;
        }

        // Durable twice before the answer: the sightings in the journal, and what they change in each host's set.
        var scans = hosts.ReportScansAsync(validated.Accepted, context.CancellationToken);
        var recorded = await recorder.SubmitAsync(validated.BatchId, validated.Accepted, validated.Rejected.Count, context.CancellationToken);
        try
        {
            await scans;
        }
        catch (HostsBusyException)
        {
            // The sightings are recorded; the batch sent again is a duplicate for them and completes the hosts' scans.
            throw TryLater("the server is catching up with its hosts", hosts.RetryAfter());
        }
        catch (Exception e) when (DatabaseErrors.IsTransient(e))
        {
            // Likewise when the database or the cluster is away: the batch sent again applies the scans.
            throw new RpcException(new Status(StatusCode.Unavailable, "the sightings are recorded but the hosts' scans could not be applied now; send the batch again"));
        }

        result.Accepted = (uint)recorded.Accepted;
        result.Duplicate = recorded.Duplicate;
        // A resent batch's sightings were counted when it was first recorded (its rejections too).
        if (recorded.Duplicate) metrics.BatchAnswered(BatchOutcome.Duplicate, 0, 0);
        else metrics.BatchAnswered(BatchOutcome.Recorded, recorded.Accepted, validated.Rejected.Count);
        metrics.BatchAcknowledged(started);
        return result;
    }

    /// <summary>Charges the agent's rate; beyond it ResourceExhausted, with when to come back.</summary>
    private void Charge(Principal principal, int sightings)
    {
        var wait = limiter.TryTake(principal.TokenId, sightings);
        if (wait > TimeSpan.Zero) throw TryLater($"rate limit: agent {principal.Name} reports too fast", wait);
    }

    private static RpcException TryLater(string reason, TimeSpan wait) =>
        RetryAfter.Refusal(StatusCode.ResourceExhausted, $"{reason}; retry after {{ms}} ms", wait);
}
