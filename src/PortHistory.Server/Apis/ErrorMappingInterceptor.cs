using Grpc.Core;
using Grpc.Core.Interceptors;
using PortHistory.Registry.Formats;
using PortHistory.Server.Infrastructure.Database;

namespace PortHistory.Server.Apis;

/// <summary>
/// Turns failures into the status codes callers can act on: an unreachable database is Unavailable (retry later),
/// a bad edition file InvalidArgument, a cancelled call Cancelled; anything unexpected is logged and Internal.
/// </summary>
public sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Task<TResponse> call;
        try
        {
            call = continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }

        // Answers from a silo's published board complete at once: no state machine for them.
        return call.IsCompletedSuccessfully ? call : MapFailureAsync(call, context);
    }

    private async Task<TResponse> MapFailureAsync<TResponse>(Task<TResponse> call, ServerCallContext context)
    {
        try
        {
            return await call;
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw Map(e, context);
        }
    }

    private RpcException Map(Exception exception, ServerCallContext context)
    {
        if (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }

        if (exception is EditionFormatException format) return new RpcException(new Status(StatusCode.InvalidArgument, $"file: {format.Message}"));

        if (DatabaseErrors.IsUnavailable(exception))
        {
            logger.LogWarning("{Method}: PostgreSQL is unavailable: {Message}", context.Method, exception.Message);
            return new RpcException(new Status(StatusCode.Unavailable, "the database is unavailable; retry later"));
        }

        if (DatabaseErrors.IsClusterUnavailable(exception))
        {
            logger.LogWarning("{Method}: {Message}", context.Method, exception.Message);
            return new RpcException(new Status(StatusCode.Unavailable, "the cluster did not answer in time; retry later"));
        }

        logger.LogError(exception, "{Method} failed", context.Method);
        return new RpcException(new Status(StatusCode.Internal, "internal error; see the server log"));
    }
}
