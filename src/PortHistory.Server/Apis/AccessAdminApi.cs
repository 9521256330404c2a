using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.AccessAdmin: issue, revoke and list bearer tokens; revoke hosts and approve their enrollment (admins only).</summary>
public sealed class AccessAdminApi(AccessTokens tokens, HostCredentials hosts) : AccessAdmin.AccessAdminBase
{
    private const int MaxApprovals = 1000;

    public override async Task<IssueTokenResponse> IssueToken(IssueTokenRequest request, ServerCallContext context)
    {
        var name = Requests.Text(request.Name, "name", 200);
        if (request.Role == Role.Unspecified || !Enum.IsDefined(request.Role)) throw Requests.Invalid("role", "must be agent, reader, admin or enroll");
        var (info, secret) = await tokens.IssueAsync(name, request.Role, context.CancellationToken);
        return new IssueTokenResponse { Info = info, Token = secret };
    }

    public override async Task<RevokeTokenResponse> RevokeToken(RevokeTokenRequest request, ServerCallContext context)
    {
        var id = Requests.Text(request.TokenId, "token_id", 64);
        var info = await tokens.RevokeAsync(id, context.CancellationToken)
                   ?? throw new RpcException(new Status(StatusCode.NotFound, $"token_id: no token \"{id}\""));
        return new RevokeTokenResponse { Info = info };
    }

    public override async Task<ListTokensResponse> ListTokens(ListTokensRequest request, ServerCallContext context)
    {
        var response = new ListTokensResponse();
        response.Tokens.AddRange(await tokens.ListAsync(context.CancellationToken));
        return response;
    }

    public override async Task<RevokeHostResponse> RevokeHost(RevokeHostRequest request, ServerCallContext context)
    {
        var hostRef = Requests.Text(request.HostRef, "host_ref", EnrollmentApi.MaxHostRefLength);
        var response = new RevokeHostResponse();
        response.Revoked.AddRange(await hosts.RevokeHostAsync(hostRef, context.CancellationToken));
        return response;
    }

    public override async Task<ApproveHostsResponse> ApproveHosts(ApproveHostsRequest request, ServerCallContext context)
    {
        if (request.HostRefs.Count is 0 or > MaxApprovals) throw Requests.Invalid("host_refs", $"1 to {MaxApprovals} host_refs, got {request.HostRefs.Count}");
        var hostRefs = request.HostRefs.Select((h, i) => Requests.Text(h, $"host_refs[{i}]", EnrollmentApi.MaxHostRefLength)).Distinct(StringComparer.Ordinal).ToList();
        var approved = await hosts.ApproveAsync(hostRefs, CallAuthorization.PrincipalOf(context), context.CancellationToken);
        return new ApproveHostsResponse { Approved = (uint)approved };
    }

    public override async Task<ListEnrollmentHostsResponse> ListEnrollmentHosts(ListEnrollmentHostsRequest request, ServerCallContext context)
    {
        var response = new ListEnrollmentHostsResponse();
        foreach (var host in await hosts.ListApprovalsAsync(10_000, context.CancellationToken))
        {
            response.Hosts.Add(new EnrollmentHost
            {
                HostRef = host.HostRef,
                Approved = host.Approved,
                RequestedAt = Timestamp(host.RequestedAt),
                RequestedBy = host.RequestedBy ?? "",
                ApprovedAt = Timestamp(host.ApprovedAt),
                ApprovedBy = host.ApprovedBy ?? "",
            });
        }

        return response;
    }

    private static Google.Protobuf.WellKnownTypes.Timestamp? Timestamp(DateTime? at) =>
        at is { } value ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(value, DateTimeKind.Utc)) : null;
}
