using System.Globalization;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Infrastructure.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.Sightings: validates a batch (bad sightings are rejected with field and reason, the rest go on),
/// applies the agent's rate limit, and answers only once the batch is durable.
/// </summary>
public sealed class SightingsApi(SightingValidator validator, SightingIngest ingest, SightingRateLimiter limiter) : Sightings.SightingsBase
{
    public override async Task<BatchResult> ReportBatch(SightingBatch request, ServerCallContext context) =>
        await RecordAsync(request, context);

    public override async Task<ReportResponse> Report(IAsyncStreamReader<SightingBatch> requestStream, ServerCallContext context)
    {
        var response = new ReportResponse();
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
        {
            response.Batches.Add(await RecordAsync(batch, context));
        }

        return response;
    }

    private async Task<BatchResult> RecordAsync(SightingBatch batch, ServerCallContext context)
    {
        var validated = validator.Validate(batch);
        var result = new BatchResult { BatchId = batch.BatchId };
        result.Rejected.AddRange(validated.Rejected);
        if (validated.Error is not null)
        {
            result.Error = validated.Error;
            return result;
        }

        var principal = CallAuthorization.PrincipalOf(context);
        var wait = limiter.TryTake(principal.TokenId, validated.Accepted.Count);
        if (wait > TimeSpan.Zero)
        {
            var milliseconds = Math.Ceiling(wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"rate limit: agent {principal.Name} reports too fast; retry after {milliseconds} ms"),
                new Metadata
                {
                    { "retry-after-ms", milliseconds },
                    { "retry-after", Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture) },
                });
        }

        var recorded = await ingest.SubmitAsync(validated.BatchId, validated.Accepted, validated.Rejected.Count, context.CancellationToken);
        result.Accepted = (uint)recorded.Accepted;
        result.Duplicate = recorded.Duplicate;
        return result;
    }
}
