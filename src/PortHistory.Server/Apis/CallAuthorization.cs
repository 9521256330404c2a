using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// The one place that decides who may call what. Every call but the health service needs "authorization: Bearer
/// &lt;token&gt;". Missing or unknown token: Unauthenticated. A role that may not call the method: PermissionDenied.
/// Decided from the HTTP request before its body is read (<see cref="CallAuthorizationMiddleware"/>, gRPC and HTTP/JSON
/// routes alike); the principal is left among the request's features for the services (host ids for admins, rate
/// limits per agent): the call's user state would be a dictionary made for every call, where Kestrel keeps a stream's
/// features from one request to the next.
/// </summary>
public sealed class CallAuthorization(TokenValidator tokens)
{
    private const string Scheme = "Bearer ";

    public static Principal PrincipalOf(ServerCallContext context) =>
        TryPrincipalOf(context) ?? throw new InvalidOperationException($"{context.Method} was not authorized");

    /// <summary>The caller, once authorized; null for the methods open to anyone.</summary>
    public static Principal? TryPrincipalOf(ServerCallContext context) => context.GetHttpContext().Features.Get<Principal>();

    /// <summary>The least role a method needs; null for methods open to anyone (health).</summary>
    public static Role? RequiredRole(string method) => method switch
    {
        _ when method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal) => null,
        _ when method.StartsWith("/porthistory.v1.Sightings/", StringComparison.Ordinal) => Role.Agent,
        "/porthistory.v1.Enrollment/Enroll" => Role.Enroll,
        "/porthistory.v1.Enrollment/RotateCredential" => Role.Agent,
        _ when method.StartsWith("/porthistory.v1.PortRegistry/", StringComparison.Ordinal) => Role.Reader,
        _ when method.StartsWith("/porthistory.v1.Observations/", StringComparison.Ordinal) => Role.Reader,
        "/porthistory.v1.Usage/GetUsageHistory" => Role.Reader,
        // Reflection shows the schema only: any valid token will do.
        _ when method.StartsWith("/grpc.reflection.", StringComparison.Ordinal) => Role.Unspecified,
        _ => Role.Admin,
    };

    /// <summary>Admins may call everything; otherwise the role must be the one the method needs.</summary>
    public static bool Allows(Role granted, Role required) => required == Role.Unspecified || granted == Role.Admin || granted == required;

    /// <summary>
    /// Authorizes a request for gRPC method <paramref name="method"/> ("/package.Service/Method"). Completes at once,
    /// without allocating, for a cached token (nearly every call); a refusal is a faulted task carrying the RpcException.
    /// </summary>
    public ValueTask AuthorizeAsync(HttpContext http, string method)
    {
        var required = RequiredRole(method);
        if (required is null) return ValueTask.CompletedTask;
        var values = http.Request.Headers.Authorization;
        var header = values.Count == 0 ? null : values[0];
        var secret = header is not null && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header.AsSpan(Scheme.Length).Trim() : default;
        if (secret.IsEmpty)
        {
            return ValueTask.FromException(new RpcException(new Status(StatusCode.Unauthenticated, "authorization: send \"Bearer <token>\"")));
        }

        ValueTask<Principal?> lookup;
        try
        {
            lookup = tokens.ValidateAsync(secret, http.Connection.RemoteIpAddress, http.RequestAborted);
        }
        catch (RpcException e)
        {
            return ValueTask.FromException(e);
        }

        if (!lookup.IsCompletedSuccessfully) return AuthorizeAsync(http, method, lookup, required.Value);
        try
        {
            Admit(http, method, lookup.Result, required.Value);
            return ValueTask.CompletedTask;
        }
        catch (RpcException e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>Checks the call's token again (a stream outlives a revocation); from the cache nearly always.</summary>
    public ValueTask AuthorizeAgainAsync(ServerCallContext context) => AuthorizeAsync(context.GetHttpContext(), context.Method);

    private static async ValueTask AuthorizeAsync(HttpContext http, string method, ValueTask<Principal?> lookup, Role required) =>
        Admit(http, method, await lookup, required);

    private static void Admit(HttpContext http, string method, Principal? principal, Role required)
    {
        if (principal is null) throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: unknown or revoked token"));
        if (!Allows(principal.Role, required))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"authorization: a token with the {principal.Role.ToString().ToLowerInvariant()} role may not call {method}"));
        }

        http.Features.Set(principal);
    }
}
