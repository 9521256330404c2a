using System.Diagnostics;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// The importer's background loop: after a submission, waits for uploads to go quiet, then applies every pending
/// edition in one generation (<see cref="GenerationLifecycle"/>). A failed generation leaves its editions pending and
/// is retried with the server's backoff until it succeeds or the server stops.
/// </summary>
public sealed class ImportLoop(UploadIntake intake, GenerationLifecycle lifecycle, IOptions<ImportOptions> options, ILogger<ImportLoop> logger)
    : BackgroundService
{
    /// <summary>How often pending editions are looked for without a submission here: other silos receive some too.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pipeline = Backoff.UntilStopped(logger, "Applying pending editions (they stay pending)");
        var resume = options.Value.ResumePending;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var woken = resume || await intake.WaitForSubmissionAsync(PollInterval, stoppingToken);
                resume = false;
                if (woken) await WaitForQuietAsync(stoppingToken);
                await intake.TakeSubmissionsAsync(stoppingToken);
                await pipeline.ExecuteAsync(async token => await lifecycle.ApplyPendingAsync(token), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Lets a batch of uploads (porthistory import DIR sends them together) land in one generation. With nothing else
    /// being received there is nothing to wait for: editions sent one at a time (a follower, a git history) apply at once.
    /// </summary>
    private async Task WaitForQuietAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (intake.IsReceiving && waited.Elapsed < options.Value.MaxBatchWait)
        {
            await Task.Delay(options.Value.BatchWindow, cancellationToken);
        }
    }
}
