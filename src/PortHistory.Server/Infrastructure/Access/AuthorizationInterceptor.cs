using Grpc.Core;
using Grpc.Core.Interceptors;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Infrastructure.Access;

/// <summary>
/// Every call but the health service needs "authorization: Bearer &lt;token&gt;". Missing or unknown token:
/// Unauthenticated. A role that may not call the method: PermissionDenied. The principal is left in the call's
/// user state for the services (host ids for admins, rate limits per agent).
/// </summary>
public sealed class AuthorizationInterceptor(AccessTokens tokens) : Interceptor
{
    private const string PrincipalKey = "porthistory.principal";

    public static Principal PrincipalOf(ServerCallContext context) => (Principal)context.UserState[PrincipalKey];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // Unary reads are the hot path: with the token cached, no state machine is built for the check.
        var authorized = AuthorizeAsync(context);
        return authorized.IsCompletedSuccessfully ? continuation(request, context) : AfterAuthorizationAsync(authorized, request, context, continuation);
    }

    private static async Task<TResponse> AfterAuthorizationAsync<TRequest, TResponse>(ValueTask authorized, TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        await authorized;
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>The least role a method needs; null for methods open to anyone (health).</summary>
    public static Role? RequiredRole(string method) => method switch
    {
        _ when method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal) => null,
        _ when method.StartsWith("/porthistory.v1.Sightings/", StringComparison.Ordinal) => Role.Agent,
        _ when method.StartsWith("/porthistory.v1.PortRegistry/", StringComparison.Ordinal) => Role.Reader,
        _ when method.StartsWith("/porthistory.v1.Observations/", StringComparison.Ordinal) => Role.Reader,
        // Reflection shows the schema only: any valid token will do.
        _ when method.StartsWith("/grpc.reflection.", StringComparison.Ordinal) => Role.Unspecified,
        _ => Role.Admin,
    };

    /// <summary>Admins may call everything; otherwise the role must be the one the method needs.</summary>
    public static bool Allows(Role granted, Role required) => required == Role.Unspecified || granted == Role.Admin || granted == required;

    private ValueTask AuthorizeAsync(ServerCallContext context)
    {
        var required = RequiredRole(context.Method);
        if (required is null) return ValueTask.CompletedTask;
        var header = Authorization(context);
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return ValueTask.FromException(new RpcException(new Status(StatusCode.Unauthenticated, "authorization: send \"Bearer <token>\"")));
        }

        var lookup = tokens.ValidateAsync(header[7..].Trim(), context.CancellationToken);
        if (!lookup.IsCompletedSuccessfully) return AuthorizeAsync(context, lookup, required.Value);
        try
        {
            Admit(context, lookup.Result, required.Value);
            return ValueTask.CompletedTask;
        }
        catch (RpcException e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>
    /// Read from the HTTP request itself: ServerCallContext.RequestHeaders copies every header of the call into a new
    /// collection, work the hot path does not need.
    /// </summary>
    private static string? Authorization(ServerCallContext context)
    {
        var values = context.GetHttpContext().Request.Headers.Authorization;
        return values.Count == 0 ? null : values[0];
    }

    private static async ValueTask AuthorizeAsync(ServerCallContext context, ValueTask<Principal?> lookup, Role required) =>
        Admit(context, await lookup, required);

    private static void Admit(ServerCallContext context, Principal? principal, Role required)
    {
        if (principal is null) throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: unknown or revoked token"));
        if (!Allows(principal.Role, required))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"authorization: a {principal.Role.ToString().ToLowerInvariant()} token may not call {context.Method}"));
        }

        context.UserState[PrincipalKey] = principal;
    }
}
