using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Expectations;
using PortHistory.Server.Application.Resilience;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Registry;

namespace PortHistory.Server.Hosting;

/// <summary>
/// Runs before the silo starts: waits for PostgreSQL (retrying while it is unreachable, so a server started before
/// its database simply waits), applies the schema, and loads the edition catalog and the expectations the port grains answer with.
/// </summary>
public sealed class DatabaseStartup(
    SchemaMigrator migrator,
    EditionCatalog catalog,
    ExpectationCatalog expectations,
    BootstrapAdminToken bootstrap,
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
            await bootstrap.EnsureAsync(token);
        }, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
