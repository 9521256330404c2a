using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Editions;
using PortHistory.Grains.Ports;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Infrastructure.Registry;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.PortRegistry: single-port reads go to the port's grain, cross-port reads to the query index in
/// PostgreSQL. Nothing here activates more than one grain per request.
/// </summary>
public sealed class PortRegistryApi(IGrainFactory grains, QueryIndex index, EditionStore editions, PortAnswerBoard board, IEditionCatalog catalog)
    : PortRegistry.PortRegistryBase
{
    private const int BatchSize = 512;

    public override Task<GetPortResponse> GetPort(GetPortRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        var admin = Infrastructure.Access.CallAuthorization.PrincipalOf(context).IsAdmin;
        var query = new PortQuery(Requests.Transport(request.Transport), Requests.Date(request.AsOf, "as_of"), IncludeHostRefs: admin);
        // The common question, answered by an activation on this silo, comes from what that activation published.
        if (PortQuery.IsCommon(query) && board.TryGet(port, catalog.Current.Generation) is { } published) return published;
        return AskGrainAsync(port, query);
    }

    private async Task<GetPortResponse> AskGrainAsync(int port, PortQuery query) => (await grains.GetGrain<IPortGrain>(port).GetPortAsync(query)).Value;

    public override async Task<GetTimelineResponse> GetTimeline(GetTimelineRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        return (await grains.GetGrain<IPortGrain>(port).GetTimelineAsync(Requests.Transport(request.Transport))).Value;
    }

    public override Task<FindServiceResponse> FindService(FindServiceRequest request, ServerCallContext context) =>
        index.FindServiceAsync(Requests.Text(request.Name, "name", 128), context.CancellationToken);

    public override async Task DiffEditions(DiffEditionsRequest request, IServerStreamWriter<DiffEditionsResponse> responseStream, ServerCallContext context)
    {
        var from = Requests.Text(request.FromEdition, "from_edition", 128);
        var to = Requests.Text(request.ToEdition, "to_edition", 128);
        var ports = Requests.Range(request.Ports, "ports");
        DiffEditionsResult diff;
        try
        {
            diff = await index.DiffAsync(from, to, ports, context.CancellationToken);
        }
        catch (UnknownEditionException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }

        foreach (var batch in diff.Entries.Chunk(BatchSize).DefaultIfEmpty([]))
        {
            var response = new DiffEditionsResponse { From = diff.From, To = diff.To };
            response.Entries.AddRange(batch.Select(e => e.ToProto()));
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    public override async Task ListPorts(ListPortsRequest request, IServerStreamWriter<ListPortsResponse> responseStream, ServerCallContext context)
    {
        var range = Requests.Range(request.Range, "range") ?? Registry.Model.PortRange.All;
        var asOf = Requests.Date(request.AsOf, "as_of");
        var status = Requests.Status(request.Status);
        var transport = Requests.Transport(request.Transport);
        var result = await index.ListPortsAsync(range, asOf, (short)status, (short)transport, context.CancellationToken);

        // Segments arrive per transport; answer port by port, each port's transports in order.
        var byTransport = result.Segments.GroupBy(s => s.Transport).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
        var cursors = new int[byTransport.Count];
        var batch = new ListPortsResponse { Edition = result.Edition };
        for (var port = result.Range.First; port <= result.Range.Last; port++)
        {
            for (var t = 0; t < byTransport.Count; t++)
            {
                var segments = byTransport[t];
                while (cursors[t] < segments.Count && segments[cursors[t]].Last < port) cursors[t]++;
                if (cursors[t] >= segments.Count || segments[cursors[t]].First > port) continue;
                var segment = segments[cursors[t]];
                var assignment = new PortAssignment { Port = (uint)port, Transport = (Transport)segment.Transport, Since = segment.Version.From };
                assignment.Records.AddRange(segment.Version.Records);
                batch.Ports.Add(assignment);
                if (batch.Ports.Count < BatchSize) continue;
                await responseStream.WriteAsync(batch, context.CancellationToken);
                batch = new ListPortsResponse { Edition = result.Edition };
            }
        }

        if (batch.Ports.Count > 0 || result.Segments.Count == 0) await responseStream.WriteAsync(batch, context.CancellationToken);
    }

    public override async Task<ListEditionsResponse> ListEditions(ListEditionsRequest request, ServerCallContext context)
    {
        var (committed, generation) = await editions.ListCommittedAsync(context.CancellationToken);
        var response = new ListEditionsResponse { Generation = (ulong)generation };
        response.Editions.AddRange(committed.Select(e => e.Summary.ToProto(e.CommittedAt)));
        return response;
    }
}
