using System.Data.Common;
using System.Net.Sockets;

namespace PortHistory.Server.Application.Resilience;

/// <summary>
/// Which failures are worth another try. Read from the ADO.NET base types (SQLSTATE, IsTransient), so that the
/// application layer decides without knowing the database driver.
/// </summary>
public static class DatabaseErrors
{
    /// <summary>
    /// True when the same call may succeed if made again: the database is unavailable, or a silo did not answer (slow,
    /// or dead but not yet declared dead by the cluster).
    /// </summary>
    public static bool IsTransient(Exception exception) => IsUnavailable(exception) || IsClusterUnavailable(exception) || IsStaleActivation(exception);

    /// <summary>
    /// A grain's state write found a newer version stored than the one its activation read (an activation left over from
    /// a cluster that was recovering, say, while another wrote). Orleans deactivates an activation whose call ends in
    /// this exception, so the same call made again reaches an activation that reads the stored state first.
    /// </summary>
    public static bool IsStaleActivation(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is Orleans.Storage.InconsistentStateException) return true;
        }

        return false;
    }

    public static bool IsClusterUnavailable(Exception exception) =>
        exception is TimeoutException or Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException
            or Orleans.Runtime.Messaging.ConnectionFailedException;

    /// <summary>
    /// True when an exception (or one it wraps, as Orleans storage errors do) means the database could not be
    /// reached or dropped the connection, rather than that a statement was wrong.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case DbException { SqlState: { } state }:
                    // An error the server sent. Class 08 connection exception, 57P admin shutdown / cannot connect now,
                    // 53 insufficient resources, 40 transaction rollback (serialization failure, deadlock: the
                    // transaction was undone and may be run again).
                    return state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("40", StringComparison.Ordinal) ||
                           state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal);
                case DbException driver when driver.IsTransient || driver.InnerException is SocketException or IOException or TimeoutException:
                    return true;
                case SocketException:
                    return true;
                case Grains.Abstractions.PortStorageException storage:
                    return storage.Transient;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsUnavailable)) return true;
        }

        return false;
    }

    /// <summary>
    /// What went wrong, in one line for a caller: the innermost database error if there is one (Orleans wraps storage
    /// errors with whole stack traces), else the message's first line.
    /// </summary>
    public static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException database) return $"PostgreSQL: {database.Message.Split('\n')[0]}";
        }

        return exception.Message.Split('\n')[0].Trim();
    }
}
