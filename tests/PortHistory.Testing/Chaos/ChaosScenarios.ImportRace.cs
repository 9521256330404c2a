using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing.Chaos;

public static partial class ChaosScenarios
{
    /// <summary>
    /// The connection holding the import lock is killed while an edition is staged, and another silo imports another
    /// edition at once: the first importer's generation is aborted by the other, which commits both editions, with no
    /// generation left applying. Grain state writes wait at a gate until the other importer has aborted the first
    /// generation, so the first cannot finish staging before the takeover, however fast it would run.
    /// </summary>
    public static async Task<(ChaosFigures Figures, ImportRace Race)> ImportLockKillAsync(ChaosCluster cluster)
    {
        var load = new ChaosLoad(cluster, 0, ports: 0, agents: 0);
        await load.ProgressAsync(reads: 400, batches: 0);
        var first = RegistryData.PathOf("rfc1700.txt");
        var second = RegistryData.PathOf("rfc1340.txt");
        var staging = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = 0;
        load.FaultBegins();
        Task<IReadOnlyList<ImportEditionProgress>> firstImport, secondImport;
        await using (var gate = await GrainWriteGate.CloseAsync(cluster.Sql, pass: 0))
        {
            firstImport = EditionUpload.ImportAsync(cluster.Silos[0].Channel, first, onProgress: p =>
            {
                if (p.Stage == ImportStage.Staging) staging.TrySetResult((long)p.Generation);
            });
            var staged = await staging.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await using (var kill = cluster.Sql.CreateCommand(
                             "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> @gate"))
            {
                kill.Parameters.AddWithValue("gate", gate.HolderPid);
                killed = Convert.ToInt32(await kill.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            }

            // The other silo imports as soon as the lock is gone, and aborts the generation left applying.
            secondImport = EditionUpload.ImportAsync(cluster.Silos[1].Channel, second);
            await Eventually.Async(async () =>
            {
                await using var state = cluster.Sql.CreateCommand("SELECT state FROM registry_generations WHERE generation = @g");
                state.Parameters.AddWithValue("g", staged);
                return (string?)await state.ExecuteScalarAsync();
            }, s => s == "aborted", TimeSpan.FromMinutes(2));
        }

        var firstOutcome = await Outcome(firstImport);
        var secondOutcome = await Outcome(secondImport);
        // An importer told its lock was lost tries again by itself; running the import again waits for it.
        if (firstOutcome is not (ImportStage.Committed or ImportStage.AlreadyImported)) firstOutcome = await Outcome(EditionUpload.ImportAsync(cluster.Silos[0].Channel, first));
        if (secondOutcome is not (ImportStage.Committed or ImportStage.AlreadyImported)) secondOutcome = await Outcome(EditionUpload.ImportAsync(cluster.Silos[1].Channel, second));
        load.FaultEnds();
        var figures = await load.FinishAsync("import lock connection killed");

        var states = new Dictionary<long, string>();
        await using (var command = cluster.Sql.CreateCommand("SELECT generation, state FROM registry_generations"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) states[reader.GetInt64(0)] = reader.GetString(1);
        }

        var editions = await new PortRegistry.PortRegistryClient(cluster.Silos[2].Channel).ListEditionsAsync(new ListEditionsRequest());
        return (figures, new ImportRace(await staging.Task, killed, firstOutcome, secondOutcome, states, (long)editions.Generation, [.. editions.Editions.Select(e => e.Id)]));

        static async Task<ImportStage> Outcome(Task<IReadOnlyList<ImportEditionProgress>> import)
        {
            try
            {
                return (await import)[^1].Stage;
            }
            catch (RpcException)
            {
                return ImportStage.Unspecified;
            }
        }
    }
}

/// <summary>How two imports racing for the lock ended.</summary>
public sealed record ImportRace(
    long StagedGeneration,
    int LockConnectionsKilled,
    ImportStage First,
    ImportStage Second,
    IReadOnlyDictionary<long, string> GenerationStates,
    long CurrentGeneration,
    IReadOnlyList<string> Editions);
