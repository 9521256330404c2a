using System.Globalization;
using Grpc.Core;
using PortHistory.Registry.Formats;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Apis;

/// <summary>
/// Turns failures into the status codes callers can act on: an unreachable database is Unavailable (retry later),
/// a bad edition file InvalidArgument, a cancelled call Cancelled; anything unexpected is logged and Internal. The one
/// place where a domain exception gets its status: services let them through.
/// </summary>
public sealed class RpcErrorMapping(ILogger<RpcErrorMapping> logger)
{
    public RpcException Map(Exception exception, ServerCallContext context) => Map(exception, context.Method, context.CancellationToken);

    /// <param name="method">The call's path, for the log.</param>
    /// <param name="cancellation">The call's own cancellation: a cancelled call is Cancelled, not a failure.</param>
    public RpcException Map(Exception exception, string method, CancellationToken cancellation)
    {
        if (exception is OperationCanceledException && cancellation.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
        }

        if (Refusal(exception) is { } refusal) return refusal;

        // A streamed request message that is not valid protobuf (unary ones fail before any of this code runs).
        if (exception is Google.Protobuf.InvalidProtocolBufferException) return new RpcException(new Status(StatusCode.InvalidArgument, "request: not a valid message"));

        if (DatabaseErrors.IsUnavailable(exception))
        {
            logger.LogWarning("{Method}: PostgreSQL is unavailable: {Message}", method, exception.Message);
            return new RpcException(new Status(StatusCode.Unavailable, "the database is unavailable; retry later"));
        }

        if (DatabaseErrors.IsClusterUnavailable(exception))
        {
            logger.LogWarning("{Method}: {Message}", method, exception.Message);
            return new RpcException(new Status(StatusCode.Unavailable, "the cluster did not answer in time; retry later"));
        }

        logger.LogError(exception, "{Method} failed", method);
        return new RpcException(new Status(StatusCode.Internal, "internal error; see the server log"));
    }

    /// <summary>The status of a request the domain refused, or null when the exception is no such refusal.</summary>
    public static RpcException? Refusal(Exception exception) => exception switch
    {
        EditionFormatException format => EditionRefused(format),
        // The message is written for the caller (it names nothing outside the import directory).
        ImportPathException path => Requests.Invalid("server_path", path.Message),
        UnknownEditionException unknown => new RpcException(new Status(StatusCode.InvalidArgument, unknown.Message)),
        EditionIdTakenException taken => new RpcException(new Status(StatusCode.AlreadyExists, taken.Message)),
        OriginalUnreadableException unreadable => new RpcException(new Status(StatusCode.DataLoss, unreadable.Message)),
        ImportFailedException failed => new RpcException(new Status(StatusCode.Unavailable, failed.Message)),
        Application.Watch.WatchCursorExpiredException expired => new RpcException(new Status(StatusCode.OutOfRange, expired.Message)),
        Application.Watch.WatchCursorUnknownException unknown => new RpcException(new Status(StatusCode.OutOfRange, unknown.Message)),
        _ => null,
    };

    /// <summary>A malformed uploaded file: the reason, with its source, reason and line also as trailers for tools.</summary>
    private static RpcException EditionRefused(EditionFormatException e)
    {
        var trailers = new Metadata { { "edition-source", Ascii(e.SourceName) }, { "edition-reason", Ascii(e.Reason) } };
        if (e.Line is { } line) trailers.Add("edition-line", line.ToString(CultureInfo.InvariantCulture));
        return new RpcException(new Status(StatusCode.InvalidArgument, $"file: {e.Message}"), trailers);
    }

    /// <summary>Metadata values are printable ASCII; anything else would fail the whole answer.</summary>
    private static string Ascii(string text) => string.Create(Math.Min(text.Length, 1024), text, (span, source) =>
    {
        for (var i = 0; i < span.Length; i++) span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
    });
}
