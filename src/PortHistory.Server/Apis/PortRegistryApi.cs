using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Ports;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.PortRegistry: single-port reads go to the port's grain, cross-port reads to the query index in
/// PostgreSQL. Nothing here activates more than one grain per request.
/// </summary>
// Seven dependencies: five sources of answers (grains, the index, editions, the board, the catalog) and the options and metrics every adapter has.
public sealed class PortRegistryApi(
    PortReads ports,
    IRegistryQueries index,
    IEditionStore editions,
    PortAnswerBoard board,
    IEditionCatalog catalog,
    IOptions<QueryOptions> queries,
    PortHistoryMetrics metrics)
    : PortRegistry.PortRegistryBase
{
    private const int BatchSize = 512;

    public override Task<GetPortResponse> GetPort(GetPortRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        var admin = CallAuthorization.PrincipalOf(context).IsAdmin;
        var query = new PortQuery(Requests.Transport(request.Transport), Requests.Date(request.AsOf, "as_of"), IncludeHostRefs: admin);
        // The common question, answered by an activation on this silo, comes from what that activation published; not
        // over HTTP/JSON, which is written from the answer's fields, and a published answer's read as empty.
        if (PortQuery.IsCommon(query) && board.TryGet(port, catalog.Current.Generation) is { } published && !HttpJson.IsTranscoded(context))
        {
            metrics.GetPortFromBoard();
            return published;
        }

        return FromGrainAsync(port, query, context, PortHistoryMetrics.Now());
    }

    private async Task<GetPortResponse> FromGrainAsync(int port, PortQuery query, ServerCallContext context, long started)
    {
        try
        {
            return await ports.GetPortAsync(port, query, context.Deadline, context.CancellationToken);
        }
        finally
        {
            metrics.GetPortFromGrain(started);
        }
    }

    public override Task<GetTimelineResponse> GetTimeline(GetTimelineRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        return ports.GetTimelineAsync(port, Requests.Transport(request.Transport), context.Deadline, context.CancellationToken);
    }

    public override Task<FindServiceResponse> FindService(FindServiceRequest request, ServerCallContext context) =>
        index.FindServiceAsync(Requests.Text(request.Name, "name", 128), context.CancellationToken);

    public override async Task DiffEditions(DiffEditionsRequest request, IServerStreamWriter<DiffEditionsResponse> responseStream, ServerCallContext context)
    {
        var from = Requests.Text(request.FromEdition, "from_edition", 128);
        var to = Requests.Text(request.ToEdition, "to_edition", 128);
        var ports = Requests.Range(request.Ports, "ports");
        using var limit = new QueryLimit(context, queries.Value.MaxDuration);
        try
        {
            var diff = await index.DiffAsync(from, to, ports, limit.Token);
            foreach (var batch in diff.Entries.Chunk(BatchSize).DefaultIfEmpty([]))
            {
                var response = new DiffEditionsResponse { From = diff.From, To = diff.To };
                response.Entries.AddRange(batch.Select(e => e.ToProto()));
                await limit.WriteAsync(responseStream, response);
            }
        }
        catch (OperationCanceledException) when (limit.Expired)
        {
            throw QueryTooLong();
        }
    }

    public override async Task ListPorts(ListPortsRequest request, IServerStreamWriter<ListPortsResponse> responseStream, ServerCallContext context)
    {
        var range = Requests.Range(request.Range, "range") ?? Registry.Model.PortSpan.All;
        var asOf = Requests.Date(request.AsOf, "as_of");
        var status = Requests.Status(request.Status);
        var transport = Requests.Transport(request.Transport);
        using var limit = new QueryLimit(context, queries.Value.MaxDuration);
        try
        {
            var sent = false;
            ListPortsResponse? batch = null;
            await foreach (var page in index.ListPortsAsync(range, asOf, status, transport, limit.Token))
            {
                batch ??= new ListPortsResponse { Edition = page.Edition };
                foreach (var assignment in page.Ports)
                {
                    batch.Ports.Add(assignment);
                    if (batch.Ports.Count < BatchSize) continue;
                    await limit.WriteAsync(responseStream, batch);
                    sent = true;
                    batch = new ListPortsResponse { Edition = page.Edition };
                }
            }

            // An empty listing is still one answer, naming the edition.
            if (batch is not null && (batch.Ports.Count > 0 || !sent)) await limit.WriteAsync(responseStream, batch);
        }
        catch (OperationCanceledException) when (limit.Expired)
        {
            throw QueryTooLong();
        }
    }

    /// <summary>
    /// The call's own cancellation, and the server's limit on how long a listing may take (a slow reader holds a
    /// snapshot open). Reads stop at the limit, and a write does not start past it: the caller gets DeadlineExceeded. A
    /// write under way is given a grace period more before it is cancelled, because gRPC aborts a call whose write is
    /// cancelled and its caller would only see the call cancelled; only a reader that stopped reading waits that long.
    /// </summary>
    private sealed class QueryLimit : IDisposable
    {
        private static readonly TimeSpan WriteGrace = TimeSpan.FromSeconds(10);

        private readonly ServerCallContext _context;
        private readonly CancellationTokenSource _reads;
        private readonly CancellationTokenSource _writes;

        public QueryLimit(ServerCallContext context, TimeSpan limit)
        {
            _context = context;
            _reads = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            _reads.CancelAfter(limit);
            _writes = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            _writes.CancelAfter(limit + WriteGrace);
        }

        public CancellationToken Token => _reads.Token;

        /// <summary>The limit passed while the caller was still there.</summary>
        public bool Expired => _reads.IsCancellationRequested && !_context.CancellationToken.IsCancellationRequested;

        public Task WriteAsync<T>(IServerStreamWriter<T> stream, T message)
        {
            _reads.Token.ThrowIfCancellationRequested();
            return stream.WriteAsync(message, _writes.Token);
        }

        public void Dispose()
        {
            _reads.Dispose();
            _writes.Dispose();
        }
    }

    private RpcException QueryTooLong() =>
        new(new Status(StatusCode.DeadlineExceeded, $"the query took longer than the server allows ({queries.Value.MaxDuration.TotalSeconds:0} s); ask for a smaller range"));

    public override async Task<ListEditionsResponse> ListEditions(ListEditionsRequest request, ServerCallContext context)
    {
        var (committed, generation) = await editions.ListCommittedAsync(context.CancellationToken);
        var response = new ListEditionsResponse { Generation = (ulong)generation };
        response.Editions.AddRange(committed.Select(e =>
        {
            var summary = e.Summary.ToProto(e.CommittedAt);
            summary.Origin = e.Origin.Location ?? "";
            summary.RetrievedAt = e.Origin.RetrievedAt is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(at) : null;
            summary.Etag = e.Origin.ETag ?? "";
            summary.LastModified = e.Origin.LastModified ?? "";
            summary.Remark = e.Origin.Remark ?? "";
            if (e.Changes is { } changes) summary.Changes = (uint)changes;
            return summary;
        }));
        return response;
    }
}
