using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Hosts;
using PortHistory.Contracts;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.Hosts: the reporting hosts, one host's sockets, and retiring a host (admins only, by the role table).</summary>
public sealed class HostsApi(HostQueries queries, HostAdministration administration) : Hosts.HostsBase
{
    public override async Task<ListHostsResponse> ListHosts(ListHostsRequest request, ServerCallContext context)
    {
        HostState? state = request.State switch
        {
            HostLiveness.Unspecified => null,
            HostLiveness.Online => HostState.Online,
            HostLiveness.Stale => HostState.Stale,
            HostLiveness.Retired => HostState.Retired,
            _ => throw Requests.Invalid("state", $"unknown host state {(int)request.State}"),
        };
        if (request.HostGroup.Length > 0 && WireText.CheckName(request.HostGroup, 64) is { } group) throw Requests.Invalid("host_group", group);
        if (request.PageSize > HostQueries.MaxPageSize) throw Requests.Invalid("page_size", $"at most {HostQueries.MaxPageSize}, got {request.PageSize}");
        if (!PageToken(request.PageToken)) throw Requests.Invalid("page_token", "is not a token this server gave");
        var size = request.PageSize == 0 ? HostQueries.DefaultPageSize : (int)request.PageSize;
        return await queries.ListAsync(state, request.HostGroup.Length > 0 ? request.HostGroup : null, size, request.PageToken, context.CancellationToken);
    }

    public override async Task<GetHostResponse> GetHost(GetHostRequest request, ServerCallContext context) =>
        await queries.GetAsync(HostRef(request.HostRef), context.CancellationToken)
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"host_ref: no host \"{request.HostRef}\" has reported"));

    public override async Task<RetireHostResponse> RetireHost(RetireHostRequest request, ServerCallContext context)
    {
        var hostRef = HostRef(request.HostRef);
        if (WireText.Check(request.Reason, 256) is { } reason) throw Requests.Invalid("reason", reason);
        var caller = CallAuthorization.PrincipalOf(context);
        var why = request.Reason.Trim().Length > 0 ? $"{request.Reason.Trim()} (retired by {caller.Name})" : $"retired by {caller.Name}";
        var retired = await administration.RetireAsync(hostRef, why, context.CancellationToken)
                      ?? throw new RpcException(new Status(StatusCode.NotFound, $"host_ref: no host \"{hostRef}\" has reported"));
        return new RetireHostResponse { Host = HostQueries.Summary(retired.Host), RevokedCredentials = (uint)retired.Revoked };
    }

    private static string HostRef(string hostRef) =>
        WireText.Check(hostRef, 128, required: true) is { } bad ? throw Requests.Invalid("host_ref", bad) : hostRef;

    private static bool PageToken(string token)
    {
        if (token.Length == 0) return true;
        if (token.Length > 256) return false;
        Span<byte> bytes = stackalloc byte[256];
        return Convert.TryFromBase64String(token, bytes, out _);
    }
}
