using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Following;

/// <summary>
/// Follows the registry by itself: every silo runs this loop, and the one holding the follower's lease (one in the
/// cluster; another takes over when its process dies) fetches each source when it is due. What each source last
/// answered, when it is due again and how many times it failed in a row are stored, so a restart neither fetches
/// early nor forgets. A new version becomes a pending edition dated by its own content; the importer applies it, and
/// the port grains raise their watch events as after any import. Failures back off, doubling up to the interval.
/// </summary>
// Eight dependencies: four collaborators (store, fetcher, intake, status); the rest are options, clock, metrics and logger.
public sealed class RegistryFollower(
    IFollowStore store,
    EditionFetcher fetcher,
    FetchedEditionIntake intake,
    FollowStatus status,
    IOptions<FollowOptions> options,
    TimeProvider clock,
    PortHistoryMetrics metrics,
    ILogger<RegistryFollower> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        var sources = options.Value.EffectiveSources;
        metrics.ObserveFollowing(() => [.. status.Sources.Select(s => (s.Source, s.LastSuccessAt, s.LastChangeAt, s.ConsecutiveFailures))]);
        logger.LogInformation("Following the registry: {Sources}, every {Interval}", string.Join(", ", sources), options.Value.Interval);
        IFollowLease? lease = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (lease is not null && !await lease.IsHeldAsync(stoppingToken))
                    {
                        logger.LogWarning("The follower's lease was lost; another silo may take over");
                        await lease.DisposeAsync();
                        lease = null;
                    }

                    lease ??= await store.TryAcquireLeaseAsync(stoppingToken);
                    if (lease is not null)
                    {
                        foreach (var source in sources) await FollowWhenDueAsync(lease, source, stoppingToken);
                    }

                    status.Update(await store.LoadAllAsync(stoppingToken));
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database is away, say: the next round tries again, with the lease if it is still held.
                    logger.LogWarning("Following the registry: {Message}", e.Message);
                }

                await Task.Delay(options.Value.CheckInterval, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (lease is not null) await lease.DisposeAsync();
        }
    }

    private async Task FollowWhenDueAsync(IFollowLease lease, string source, CancellationToken cancellationToken)
    {
        var state = await lease.LoadAsync(source, cancellationToken);
        var now = clock.GetUtcNow();
        if (state.NextAttemptAt is { } due && due > now) return;
        state = await FollowAsync(state, now, cancellationToken);
        await lease.SaveAsync(state, cancellationToken);
    }

    /// <summary>One fetch of one source, and the state it leaves.</summary>
    internal async Task<FollowState> FollowAsync(FollowState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        state = state with { LastAttemptAt = now };
        var result = await fetcher.FetchAsync(state, cancellationToken);
        switch (result)
        {
            case FetchResult.NotModified:
                return Succeeded(state, "unchanged");
            case FetchResult.Failed failed:
                return Failed(state, failed.Reason);
            case FetchResult.Body body:
                var sha256 = Convert.ToHexStringLower(SHA256.HashData(body.Bytes));
                // Validators are kept only with a body accepted: a refused one must be fetched whole again.
                var answered = state with { ETag = body.ETag, LastModified = body.LastModified, LastSha256 = sha256 };
                if (sha256 == state.LastSha256) return Succeeded(answered, "unchanged");
                switch (await intake.TakeAsync(body, clock.GetUtcNow(), cancellationToken))
                {
                    case IntakeOutcome.Known known:
                        logger.LogInformation("{Source}: edition {Edition} again, nothing to import", state.Source, known.EditionId);
                        return Succeeded(answered, "unchanged");
                    case IntakeOutcome.Submitted submitted:
                        logger.LogInformation("{Source}: a new version, edition {Edition} dated {Date:yyyy-MM-dd}{Remark}, queued for import", state.Source,
                            submitted.EditionId, submitted.Date, submitted.Remark is null ? "" : $" ({submitted.Remark})");
                        return Succeeded(answered with { LastChangeAt = clock.GetUtcNow() }, "new_edition");
                    case IntakeOutcome.Refused refused:
                        metrics.Fetched("refused");
                        return Failed(state, refused.Reason, counted: false);
                }

                break;
        }

        return Failed(state, "unexpected fetch result");
    }

    private FollowState Succeeded(FollowState state, string outcome)
    {
        metrics.Fetched(outcome);
        var now = clock.GetUtcNow();
        return state with { LastSuccessAt = now, ConsecutiveFailures = 0, LastError = null, NextAttemptAt = now + options.Value.Interval };
    }

    private FollowState Failed(FollowState state, string reason, bool counted = true)
    {
        if (counted) metrics.Fetched("failed");
        var failures = state.ConsecutiveFailures + 1;
        var delay = TimeSpan.FromSeconds(Math.Min(options.Value.Interval.TotalSeconds,
            options.Value.FirstRetryDelay.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 30))));
        logger.LogWarning("{Source}: {Reason} ({Failures} failure(s) in a row; next try in {Delay})", state.Source, reason, failures, delay);
        return state with { ConsecutiveFailures = failures, LastError = reason, NextAttemptAt = clock.GetUtcNow() + delay };
    }
}
