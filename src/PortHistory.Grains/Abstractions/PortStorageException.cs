namespace PortHistory.Grains.Abstractions;

/// <summary>
/// A port grain could not write its state. Database exceptions do not serialize between silos; this carries their
/// message, and whether retrying may help, to a caller on another silo.
/// </summary>
[GenerateSerializer, Alias("PortHistory.PortStorageException")]
public sealed class PortStorageException : Exception
{
    public PortStorageException()
    {
    }

    public PortStorageException(string message, bool transient)
        : base(message) => Transient = transient;

    /// <summary>The database was unreachable, overloaded or restarting: the same write may succeed later.</summary>
    [Id(0)]
    public bool Transient { get; init; }

    /// <summary>The database's exception behind a failed state write (the storage provider wraps it in its own), as one of these; else null.</summary>
    public static PortStorageException? FromDatabase(Exception exception, uint port) => FromDatabase(exception, $"port {port}");

    /// <param name="subject">What was being stored or read ("host web-01").</param>
    public static PortStorageException? FromDatabase(Exception exception, string subject)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException database) return new PortStorageException($"{subject}: storing or reading its state failed: {database.Message}", database.IsTransient);
            if (e is System.Net.Sockets.SocketException or IOException) return new PortStorageException($"{subject}: the database connection failed: {e.Message}", transient: true);
        }

        return null;
    }
}
