using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Application.Import;

/// <summary>Stages a generation's changed ports on their grains, several at once, reporting progress as it goes.</summary>
public sealed class PortStaging(IRegistryStaging grains, ImportProgressHub progress, IOptions<ImportOptions> options, ILogger<PortStaging> logger)
{
    /// <summary>Tries per port before the generation fails.</summary>
    public const int Attempts = 4;

    public async Task StageAsync(long generation, long[] aborted, byte[][] timelines, int[] ports, IReadOnlyCollection<string> editionIds,
        CancellationToken cancellationToken)
    {
        var done = 0;
        var counting = new Lock();
        var step = Math.Max(1, ports.Length / 50);
        await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = options.Value.StagingConcurrency, CancellationToken = cancellationToken },
            async (port, token) =>
            {
                // A stage is idempotent: a port that failed for a passing reason (a busy database, a silo joining or
                // leaving, an activation whose state another wrote meanwhile, which Orleans deactivates) is tried again
                // here rather than failing the whole generation. Anything else fails at once.
                var pipeline = Backoff.Attempts(Attempts, logger, $"Staging port {port}", DatabaseErrors.IsTransient);
                await pipeline.ExecuteAsync(async _ => await grains.StageAsync(port, generation, aborted, timelines[port]), token);

                // Counted and published under one lock: two ports finishing together must not reach a watcher as
                // "staged 2 of 2" before "staged 1 of 2".
                lock (counting)
                {
                    var count = ++done;
                    if (count % step == 0)
                    {
                        progress.Publish(editionIds, new ImportEvent(ImportStage.Staging, $"staged {count} of {ports.Length} ports", count, ports.Length, generation));
                    }
                }
            });
    }
}

/// <summary>What a generation asks of the port grains.</summary>
public interface IRegistryStaging
{
    /// <summary>Stages a port's timelines under a generation; the port drops what it staged under the aborted ones. Idempotent.</summary>
    Task StageAsync(int port, long generation, long[] abortedGenerations, byte[] timelines);

    /// <summary>Redoes an observed port's verdicts against the registry, once its grain's silo holds <paramref name="generation"/>.</summary>
    Task RefreshVerdictsAsync(int port, long generation);
}

/// <summary>The port grains, one per port.</summary>
public sealed class GrainRegistryStaging(KeyedGrains grains) : IRegistryStaging
{
    public Task StageAsync(int port, long generation, long[] abortedGenerations, byte[] timelines) =>
        grains.Port(port).StageRegistryAsync(generation, abortedGenerations, new Orleans.Concurrency.Immutable<byte[]>(timelines));

    public Task RefreshVerdictsAsync(int port, long generation) => grains.Port(port).RefreshVerdictsAsync(generation);
}
