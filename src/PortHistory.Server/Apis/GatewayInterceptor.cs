using Grpc.Core;
using Grpc.Core.Interceptors;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Apis;

/// <summary>
/// The gateway's only interceptor: takes the principal <see cref="CallAuthorizationMiddleware"/> admitted (and refuses a
/// call that reached it without one, should the middleware ever be missing), holds one of the token's concurrent-call
/// permits while it runs (<see cref="CallLimits"/>), maps any failure to a status code (<see cref="RpcErrorMapping"/>),
/// and counts the call by method and status. One stage rather than one per policy: every interceptor stage is
/// resolved, dispatched and wrapped anew on every call, and on the GetPort hot path that was a measurable share of the
/// gateway's work.
/// </summary>
public sealed class GatewayInterceptor(CallLimits limits, RpcErrorMapping errors, PortHistoryMetrics metrics)
    : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // Unary reads are the hot path: a cached token and an answer from a silo's published board complete at once,
        // and then no state machine is built.
        Task<TResponse> call;
        var permit = default(CallPermit);
        try
        {
            permit = Enter(context);
            call = continuation(request, context);
        }
        catch (Exception e)
        {
            permit.Dispose();
            if (e is not RpcException rpc) throw Failed(e, context);
            metrics.CallAnswered(context.Method, rpc.StatusCode);
            throw;
        }

        if (call.IsCompletedSuccessfully)
        {
            permit.Dispose();
            metrics.CallAnswered(context.Method, StatusCode.OK);
            return call;
        }

        return CompleteAsync(call, permit, context);
    }

    private async Task<TResponse> CompleteAsync<TResponse>(Task<TResponse> call, CallPermit permit, ServerCallContext context)
    {
        try
        {
            return await CountedAsync(context, () => call);
        }
        finally
        {
            permit.Dispose();
        }
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        AuthorizedAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        AuthorizedAsync(context, () => continuation(requestStream, context));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        AuthorizedAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    /// <summary>A streaming call: holding a permit while it runs, counted and its failure mapped.</summary>
    private Task<T> AuthorizedAsync<T>(ServerCallContext context, Func<Task<T>> call) =>
        CountedAsync(context, async () =>
        {
            using var permit = Enter(context);
            return await call();
        });

    private async Task<T> CountedAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        try
        {
            var result = await call();
            metrics.CallAnswered(context.Method, StatusCode.OK);
            return result;
        }
        catch (RpcException e)
        {
            metrics.CallAnswered(context.Method, e.StatusCode);
            throw;
        }
        catch (Exception e)
        {
            throw Failed(e, context);
        }
    }

    /// <summary>Any other failure, as the status the caller gets; counted.</summary>
    private RpcException Failed(Exception e, ServerCallContext context)
    {
        var mapped = errors.Map(e, context);
        metrics.CallAnswered(context.Method, mapped.StatusCode);
        return mapped;
    }

    /// <summary>Health calls carry no token and take no permit; any other call must have been admitted.</summary>
    private CallPermit Enter(ServerCallContext context)
    {
        if (CallAuthorization.TryPrincipalOf(context) is { } principal) return limits.Enter(principal);
        if (CallAuthorization.RequiredRole(context.Method) is null) return default;
        throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: the call was not authorized"));
    }
}
