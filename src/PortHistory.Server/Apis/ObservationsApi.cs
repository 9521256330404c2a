using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.Observations: one port from its grain, fleet-wide discrepancies from the index, the watch feed from the event log.</summary>
public sealed class ObservationsApi(
    IObservationQueries queries,
    WatchFeed watch,
    CallLimits limits,
    CallAuthorization authorization,
    IOptions<WatchOptions> watchOptions,
    TimeProvider time) : PortHistory.Contracts.V1.Observations.ObservationsBase
{
    private static readonly HashSet<VerdictKind> DefaultKinds = [VerdictKind.Squatter, VerdictKind.Unregistered, VerdictKind.Ghost, VerdictKind.Unexpected];

    public override Task<GetObservedResponse> GetObserved(GetObservedRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        var admin = CallAuthorization.PrincipalOf(context).IsAdmin;
        return queries.GetObservedAsync(port, Requests.Transport(request.Transport), admin, context.Deadline, context.CancellationToken);
    }

    public override async Task ListDiscrepancies(ListDiscrepanciesRequest request, IServerStreamWriter<ListDiscrepanciesResponse> responseStream,
        ServerCallContext context)
    {
        var kinds = request.Verdicts.Count == 0 ? DefaultKinds : request.Verdicts.Select(k => Enum.IsDefined(k) && k != VerdictKind.Unspecified
            ? k
            : throw Requests.Invalid("verdicts", $"unknown verdict {(int)k}")).ToHashSet();
        var range = Requests.Range(request.Range, "range") ?? Registry.Model.PortSpan.All;
        var transport = Requests.Transport(request.Transport);
        var report = await queries.DiscrepanciesAsync(kinds, range, transport, context.CancellationToken);
        foreach (var batch in report.Discrepancies.Chunk(512).DefaultIfEmpty([]))
        {
            var response = new ListDiscrepanciesResponse { ReportingHosts = (ulong)report.ReportingHosts };
            response.Discrepancies.AddRange(batch);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        var principal = CallAuthorization.PrincipalOf(context);
        var filter = WatchRequests.Filter(request) with { HostEvents = principal.Role == Role.Admin };
        var after = WatchRequests.After(request);
        using var stream = limits.EnterWatch(principal);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var revoked = new TaskCompletionSource<RpcException>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenCheck = CheckTokenWhileOpenAsync(context, revoked, ended);
        try
        {
            // Each write waits for this caller's flow control only: a caller that stops reading stops its own stream.
            await foreach (var response in watch.ReadAsync(filter, after, ended.Token))
            {
                await responseStream.WriteAsync(response, ended.Token);
            }
        }
        catch (OperationCanceledException) when (revoked.Task.IsCompleted)
        {
            // The token was revoked: the stream ends with the refusal a new call would get.
            throw await revoked.Task;
        }
        finally
        {
            await ended.CancelAsync();
            await tokenCheck;
        }
    }

    /// <summary>
    /// A stream outlives a revocation: its token is checked again every TokenCheckInterval, and once it is refused
    /// (Unauthenticated, PermissionDenied) the refusal is set in <paramref name="revoked"/> and the stream ended.
    /// </summary>
    private async Task CheckTokenWhileOpenAsync(ServerCallContext context, TaskCompletionSource<RpcException> revoked, CancellationTokenSource ended)
    {
        using var timer = new PeriodicTimer(watchOptions.Value.TokenCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ended.Token))
            {
                try
                {
                    await authorization.AuthorizeAgainAsync(context);
                }
                catch (RpcException refused) when (refused.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
                {
                    // Set before the stream is cancelled: the stream's end is then known to be this refusal.
                    revoked.TrySetResult(refused);
                    await ended.CancelAsync();
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Busy, throttled or PostgreSQL away: checked again at the next tick.
                }
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
        }
    }
}
