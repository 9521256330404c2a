using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http.Features;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Apis;

/// <summary>
/// <c>GET /v1/ports/{port}</c> without options, for a caller who is not an admin (whose answer names hosts), when an
/// activation on this silo has published the port's answer (<see cref="PortAnswerBoard"/>): the first such call goes
/// through the JSON transcoding like any other and its body is kept with the publication; the calls after it get
/// those bytes, without a grain call or formatting the answer again. A new answer is a new publication, so a kept
/// body never outlives its answer. Runs after <see cref="CallAuthorizationMiddleware"/>: the caller is admitted as
/// for the gRPC method.
/// </summary>
public sealed class PortJsonAnswers(RequestDelegate next, PortAnswerBoard board, IEditionCatalog catalog, CallLimits limits, PortHistoryMetrics metrics)
{
    private static readonly string GetPort = $"/{PortRegistry.Descriptor.FullName}/GetPort";

    public Task InvokeAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method) || http.Request.QueryString.HasValue) return next(http);
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is null || endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName != GetPort)
        {
            return next(http);
        }

        if (http.Features.Get<Principal>() is not { IsAdmin: false } principal || !TryPort(http.Request.RouteValues["port"] as string, out var port)) return next(http);
        if (board.TryGetPublication(port, catalog.Current.Generation) is not { } published) return next(http);
        return published.Json is { } json ? WriteAsync(http, principal, json) : KeepAsync(http, published);
    }

    private async Task WriteAsync(HttpContext http, Principal principal, PublishedJson json)
    {
        CallPermit permit;
        try
        {
            permit = limits.Enter(principal);
        }
        catch (RpcException)
        {
            // At the token's limit: the call path refuses it, with its own answer.
            await next(http);
            return;
        }

        using (permit)
        {
            metrics.GetPortFromBoard();
            var response = http.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = json.ContentType;
            response.ContentLength = json.Body.Length;
            await response.Body.WriteAsync(json.Body, http.RequestAborted);
            metrics.CallAnswered(GetPort, StatusCode.OK);
        }
    }

    /// <summary>The call as usual, its body written to a buffer first: a successful one is kept with the publication, then sent.</summary>
    private async Task KeepAsync(HttpContext http, PublishedAnswer published)
    {
        var original = http.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        using var buffer = new MemoryStream();
        var capture = new StreamResponseBodyFeature(buffer, original);
        http.Features.Set<IHttpResponseBodyFeature>(capture);
        try
        {
            await next(http);
            await capture.CompleteAsync();
        }
        finally
        {
            http.Features.Set(original);
        }

        var response = http.Response;
        if (response.StatusCode == StatusCodes.Status200OK && response.ContentType is { } type && type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            published.Json = new PublishedJson(buffer.ToArray(), type);
        }

        response.ContentLength = buffer.Length;
        buffer.Position = 0;
        await buffer.CopyToAsync(response.Body, http.RequestAborted);
    }

    /// <summary>A port as plain decimal digits, 0-65535 without leading zeros; anything else is the transcoding's to read (and refuse).</summary>
    private static bool TryPort(string? text, out int port)
    {
        port = 0;
        if (text is not { Length: > 0 and <= 5 } || (text.Length > 1 && text[0] == '0')) return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '9') return false;
            port = port * 10 + (c - '0');
        }

        return port <= 65535;
    }
}
