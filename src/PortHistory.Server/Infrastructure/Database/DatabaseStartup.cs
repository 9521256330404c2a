using Npgsql;
using PortHistory.Server.Infrastructure.Registry;
using PortHistory.Server.Infrastructure.Resilience;

namespace PortHistory.Server.Infrastructure.Database;

/// <summary>
/// Runs before the silo starts: waits for PostgreSQL (retrying while it is unreachable, so a server started before
/// its database simply waits), applies the schema, and loads the edition catalog and the expectations the port grains answer with.
/// </summary>
public sealed class DatabaseStartup(
    SchemaMigrator migrator,
    EditionCatalog catalog,
    Expectations.ExpectationCatalog expectations,
    Access.BootstrapAdminToken bootstrap,
    IConfiguration configuration,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var pipeline = Backoff.UntilStopped(logger, "Reaching PostgreSQL", DatabaseErrors.IsUnavailable);
        await pipeline.ExecuteAsync(async token =>
        {
            await migrator.MigrateAsync(token);
            await catalog.RefreshAsync(token);
            await expectations.RefreshAsync(token);
            await bootstrap.EnsureAsync(configuration["PortHistory:Auth:BootstrapTokenFile"], token);
        }, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class DatabaseErrors
{
    /// <summary>
    /// True when the same call may succeed if made again: the database is unavailable, or a silo did not answer (slow,
    /// or dead but not yet declared dead by the cluster).
    /// </summary>
    public static bool IsTransient(Exception exception) => IsUnavailable(exception) || IsClusterUnavailable(exception);

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
                case PostgresException postgres:
                    // Class 08 connection exception, 57P admin shutdown / cannot connect now, 53 insufficient resources,
                    // 40 transaction rollback (serialization failure, deadlock: the transaction was undone and may be run again).
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal) ||
                           postgres.SqlState.StartsWith("40", StringComparison.Ordinal) ||
                           postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) ||
                           postgres.SqlState.StartsWith("53", StringComparison.Ordinal);
                case NpgsqlException npgsql when npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException:
                    return true;
                case System.Net.Sockets.SocketException:
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
            if (e is NpgsqlException npgsql) return $"PostgreSQL: {npgsql.Message.Split('\n')[0]}";
        }

        return exception.Message.Split('\n')[0].Trim();
    }
}
