using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Ports;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Infrastructure.Access;
using PortHistory.Server.Infrastructure.Sightings;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.Observations: one port from its grain, fleet-wide discrepancies from the index.</summary>
public sealed class ObservationsApi(IGrainFactory grains, ObservationIndex index, ObservationContext observations) : PortHistory.Contracts.V1.Observations.ObservationsBase
{
    private static readonly HashSet<VerdictKind> DefaultKinds = [VerdictKind.Squatter, VerdictKind.Unregistered, VerdictKind.Ghost];

    public override async Task<GetObservedResponse> GetObserved(GetObservedRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        var admin = CallAuthorization.PrincipalOf(context).IsAdmin;
        return (await grains.GetGrain<IPortGrain>(port).GetObservedAsync(Requests.Transport(request.Transport), admin)).Value;
    }

    public override async Task ListDiscrepancies(ListDiscrepanciesRequest request, IServerStreamWriter<ListDiscrepanciesResponse> responseStream,
        ServerCallContext context)
    {
        var kinds = request.Verdicts.Count == 0 ? DefaultKinds : request.Verdicts.Select(k => Enum.IsDefined(k) && k != VerdictKind.Unspecified
            ? k
            : throw Requests.Invalid("verdicts", $"unknown verdict {(int)k}")).ToHashSet();
        var range = Requests.Range(request.Range, "range") ?? Registry.Model.PortRange.All;
        var transport = Requests.Transport(request.Transport);
        var reporting = observations.ReportingHosts;
        var found = await index.DiscrepanciesAsync(kinds, range, transport, reporting, observations.Options, context.CancellationToken);
        foreach (var batch in found.Chunk(512).DefaultIfEmpty([]))
        {
            var response = new ListDiscrepanciesResponse { ReportingHosts = (ulong)reporting };
            response.Discrepancies.AddRange(batch);
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}
