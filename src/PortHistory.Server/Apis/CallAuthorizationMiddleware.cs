using System.Globalization;
using System.Text;
using System.Text.Json;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Apis;

/// <summary>
/// Authorizes every gRPC method's request, on the gRPC and the HTTP/JSON routes alike, before anything reads its body:
/// an unauthenticated caller's 8 MiB batch or 16 MiB JSON is refused unread (the stream is reset), not parsed and then
/// refused. Requests for anything else (the web page, the OpenAPI document, unknown paths) pass untouched.
/// </summary>
public sealed class CallAuthorizationMiddleware(RequestDelegate next, CallAuthorization authorization, RpcErrorMapping errors, PortHistoryMetrics metrics)
{
    public Task InvokeAsync(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName is not { } method) return next(http);
        var authorized = authorization.AuthorizeAsync(http, method);
        // A cached token: on to the call without a state machine.
        return authorized.IsCompletedSuccessfully ? next(http) : AuthorizeThenCallAsync(http, method, authorized);
    }

    private async Task AuthorizeThenCallAsync(HttpContext http, string method, ValueTask authorized)
    {
        RpcException? refused = null;
        try
        {
            await authorized;
        }
        catch (RpcException e)
        {
            refused = e;
        }
        catch (Exception e)
        {
            // PostgreSQL away during a lookup: Unavailable, as for any call.
            refused = errors.Map(e, method, http.RequestAborted);
        }

        if (refused is not null)
        {
            metrics.CallAnswered(method, refused.StatusCode);
            await RefuseAsync(http, refused);
            return;
        }

        await next(http);
    }

    /// <summary>The refusal as the caller's protocol says it: a gRPC trailers-only answer, or the HTTP/JSON API's error body.</summary>
    private static Task RefuseAsync(HttpContext http, RpcException refused)
    {
        var response = http.Response;
        foreach (var entry in refused.Trailers.Where(t => !t.IsBinary)) response.Headers[entry.Key] = entry.Value;
        if (http.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)refused.StatusCode).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(refused.Status.Detail);
            return Task.CompletedTask;
        }

        response.StatusCode = refused.StatusCode switch
        {
            StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
            StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
            StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
            StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        };
        if (refused.Trailers.GetValue("retry-after") is { } seconds) response.Headers.RetryAfter = seconds;
        response.ContentType = "application/json";
        var body = JsonSerializer.Serialize(new { code = (int)refused.StatusCode, message = refused.Status.Detail, details = Array.Empty<object>() });
        return response.WriteAsync(body, Encoding.UTF8, http.RequestAborted);
    }
}
