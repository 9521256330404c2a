using Grpc.Core;
using Grpc.Core.Interceptors;
using PortHistory.Server.Infrastructure.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// The gateway's only interceptor: authorizes the call (<see cref="CallAuthorization"/>), runs it, and maps any failure,
/// a refused authorization's included, to a status code (<see cref="RpcErrorMapping"/>). One stage rather than one
/// per policy: every interceptor stage is resolved, dispatched and wrapped anew on every call, and on the GetPort hot
/// path that was a measurable share of the gateway's work.
/// </summary>
public sealed class GatewayInterceptor(CallAuthorization authorization, RpcErrorMapping errors) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // Unary reads are the hot path: a cached token and an answer from a silo's published board complete at once,
        // and then no state machine is built.
        Task<TResponse> call;
        try
        {
            var authorized = authorization.AuthorizeAsync(context);
            if (!authorized.IsCompletedSuccessfully) return AuthorizeThenCallAsync(authorized, request, context, continuation);
            call = continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }

        return call.IsCompletedSuccessfully ? call : MapFailureAsync(call, context);
    }

    private async Task<TResponse> AuthorizeThenCallAsync<TRequest, TResponse>(ValueTask authorized, TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
        where TRequest : class
        where TResponse : class
    {
        try
        {
            await authorized;
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }

    private async Task<TResponse> MapFailureAsync<TResponse>(Task<TResponse> call, ServerCallContext context)
    {
        try
        {
            return await call;
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await authorization.AuthorizeAsync(context);
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
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Map(e, context);
        }
    }
}
