using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// Every call but the health service needs "authorization: Bearer &lt;token&gt;". Missing or unknown token:
/// Unauthenticated. A role that may not call the method: PermissionDenied. The principal is left among the request's
/// features for the services (host ids for admins, rate limits per agent): the call's user state would be a
/// dictionary made for every call, where Kestrel keeps a stream's features from one request to the next.
/// </summary>
public sealed class CallAuthorization(AccessTokens tokens)
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
        // Reflection shows the schema only: any valid token will do.
        _ when method.StartsWith("/grpc.reflection.", StringComparison.Ordinal) => Role.Unspecified,
        _ => Role.Admin,
    };

    /// <summary>Admins may call everything; otherwise the role must be the one the method needs.</summary>
    public static bool Allows(Role granted, Role required) => required == Role.Unspecified || granted == Role.Admin || granted == required;

    /// <summary>
    /// Completes at once, without allocating, for a cached token (nearly every call); a refusal is a faulted task
    /// carrying the RpcException.
    /// </summary>
    public ValueTask AuthorizeAsync(ServerCallContext context)
    {
        var required = RequiredRole(context.Method);
        if (required is null) return ValueTask.CompletedTask;
        var header = Authorization(context);
        var secret = header is not null && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header.AsSpan(Scheme.Length).Trim() : default;
        if (secret.IsEmpty)
        {
            return ValueTask.FromException(new RpcException(new Status(StatusCode.Unauthenticated, "authorization: send \"Bearer <token>\"")));
        }

        var lookup = tokens.ValidateAsync(secret, context.CancellationToken);
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
                $"authorization: a token with the {principal.Role.ToString().ToLowerInvariant()} role may not call {context.Method}"));
        }

        context.GetHttpContext().Features.Set(principal);
    }
}
