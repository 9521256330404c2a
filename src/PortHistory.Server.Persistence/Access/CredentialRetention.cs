using Microsoft.Extensions.Options;
using Npgsql;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Persistence.Database;

namespace PortHistory.Server.Persistence.Access;

/// <summary>
/// Deletes per-host credentials revoked longer ago than the retention, on one silo of the cluster at a time (a
/// session lock): rotations every day on a large fleet would otherwise grow the table for ever.
/// </summary>
public sealed class CredentialRetention(
    NpgsqlDataSource dataSource,
    IAccessTokenStore store,
    IOptions<EnrollmentOptions> options,
    ILogger<CredentialRetention> logger) : BackgroundService
{
    private const int LockSpace = 0x63726564; // "cred"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CredentialRetentionInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var held = await SessionLock.TryAcquireAsync(dataSource, LockSpace, "credential-retention", stoppingToken);
                if (held is null) continue;
                var deleted = await store.DeleteRevokedAsync(options.Value.CredentialRetention, stoppingToken);
                if (deleted > 0) logger.LogInformation("Deleted {Deleted} credentials revoked more than {Retention} ago", deleted, options.Value.CredentialRetention);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Deleting revoked credentials failed: {Message}", e.Message);
            }
        }
    }
}
