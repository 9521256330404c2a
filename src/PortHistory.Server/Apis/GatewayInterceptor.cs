using System.Threading.RateLimiting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using PortHistory.Server.Infrastructure.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// The gateway's only interceptor: authorizes the call (<see cref="CallAuthorization"/>), holds one of the token's
/// concurrent-call permits while it runs (<see cref="CallLimits"/>), and maps any failure, a refused authorization's
/// included, to a status code (<see cref="RpcErrorMapping"/>). One stage rather than one per policy: every
/// interceptor stage is resolved, dispatched and wrapped anew on every call, and on the GetPort hot path that was a
/// measurable share of the gateway's work.
/// </summary>
public sealed class GatewayInterceptor(CallAuthorization authorization, CallLimits limits, RpcErrorMapping errors) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // Unary reads are the hot path: a cached token and an answer from a silo's published board complete at once,
        // and then no state machine is built.
        Task<TResponse> call;
        RateLimitLease? lease = null;
        try
        {
            var authorized = authorization.AuthorizeAsync(context);
            if (!authorized.IsCompletedSuccessfully) return AuthorizeThenCallAsync(authorized, request, context, continuation);
            lease = Enter(context);
            call = continuation(request, context);
        }
        catch (Exception e)
        {
            lease?.Dispose();
            if (e is RpcException) throw;
            throw errors.Map(e, context);
        }

        if (call.IsCompletedSuccessfully)
        {
            lease?.Dispose();
            return call;
        }

        return MapFailureAsync(call, lease, context);
    }

    private async Task<TResponse> AuthorizeThenCallAsync<TRequest, TResponse>(ValueTask authorized, TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        try
        {
            await authorized;
            using var lease = Enter(context);
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }

    private async Task<TResponse> MapFailureAsync<TResponse>(Task<TResponse> call, RateLimitLease? lease, ServerCallContext context)
    {
        try
        {
            return await call;
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
        finally
        {
            lease?.Dispose();
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await authorization.AuthorizeAsync(context);
            using var lease = Enter(context);
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await authorization.AuthorizeAsync(context);
            using var lease = Enter(context);
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await authorization.AuthorizeAsync(context);
            using var lease = Enter(context);
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }

    /// <summary>Health calls carry no token and take no permit.</summary>
    private RateLimitLease? Enter(ServerCallContext context) =>
        CallAuthorization.TryPrincipalOf(context) is { } principal ? limits.Enter(principal) : null;
}
