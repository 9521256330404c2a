using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.AccessAdmin: issue, revoke and list bearer tokens (admins only).</summary>
public sealed class AccessAdminApi(AccessTokens tokens) : AccessAdmin.AccessAdminBase
{
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
}
