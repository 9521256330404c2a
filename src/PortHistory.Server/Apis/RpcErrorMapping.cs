using Grpc.Core;
using PortHistory.Registry.Formats;
using PortHistory.Server.Infrastructure.Database;

namespace PortHistory.Server.Apis;

/// <summary>
/// Turns failures into the status codes callers can act on: an unreachable database is Unavailable (retry later),
/// a bad edition file InvalidArgument, a cancelled call Cancelled; anything unexpected is logged and Internal.
/// </summary>
public sealed class RpcErrorMapping(ILogger<RpcErrorMapping> logger)
{
    public RpcException Map(Exception exception, ServerCallContext context)
    {
        if (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }

        if (exception is EditionFormatException format) return new RpcException(new Status(StatusCode.InvalidArgument, $"file: {format.Message}"));

        // A streamed request message that is not valid protobuf (unary ones fail before any of this code runs).
        if (exception is Google.Protobuf.InvalidProtocolBufferException) return new RpcException(new Status(StatusCode.InvalidArgument, "request: not a valid message"));

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
