using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ImportCrashTests(RegistryServerFixture fixture)
{
    // The Assigned Numbers RFCs: the two oldest are imported first; the three later ones restage about a thousand ports in one
    // generation, the import that is cut short. (An IANA file would restage 49,152 ports, each cut and run the same way.)
    private static readonly string[] First = ["rfc0990.txt", "rfc1010.txt"];
    private static readonly string[] Rest = ["rfc1060.txt", "rfc1340.txt", "rfc1700.txt"];

    /// <summary>Grain state writes let through before the gate holds the rest back: the server dies with the import this far along.</summary>
    private const int WritesBeforeTheKill = 200;

    /// <summary>
    /// A crash halfway through staging leaves nothing half done, and the import run again completes through database
    /// failures that pass (a grain state write now and then refused with SQLSTATE 40001, the kind a client may retry).
    /// </summary>
    [Fact]
    public async Task Killing_the_server_while_it_applies_an_import_leaves_no_half_edition_and_completing_it_through_passing_database_failures_gives_the_clean_history()
    {
        // Resume disabled so that the restarted server shows exactly what the crash left behind.
        var connectionString = fixture.Postgres.ConnectionString("crash");
        await using var server = new ServerProcess(connectionString, new Dictionary<string, string> { ["PortHistory__Import__ResumePending"] = "false" });
        await server.StartAsync();
        Assert.All(await EditionUpload.ImportAllAsync(server.Channel, First.Select(RegistryData.PathOf)), p => Assert.Equal(ImportStage.Committed, p[^1].Stage));
        var before = await RegistryDigest.ComputeAsync(server.Channel, diff: ("rfc990", "rfc1010"));

        // Import the later RFCs and kill the server once the first writes of their staging have gone through and the
        // next ones are held at the gate: staging is under way, far from done.
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var staging = new TaskCompletionSource<ImportEditionProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var gate = await GrainWriteGate.CloseAsync(dataSource, WritesBeforeTheKill))
        {
            var uploads = Rest.Select(file => EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf(file), onProgress: p =>
            {
                if (p.Stage == ImportStage.Staging) staging.TrySetResult(p);
            })).ToList();
            var started = await staging.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await gate.ReachedAsync(TimeSpan.FromMinutes(2));
            await server.KillAsync();
            await Task.WhenAll(uploads.Select(u => u.ContinueWith(_ => { }, TaskScheduler.Default)));
            Assert.True(started.Total > 4 * WritesBeforeTheKill, $"the generation restages {started.Total} ports: the kill is not partway through");
        }

        // Whatever was staged before the kill belongs to a generation that never committed: nothing of it shows.
        await server.StartAsync();
        Assert.Equal(before, await RegistryDigest.ComputeAsync(server.Channel, diff: ("rfc990", "rfc1010")));

        // From now on every 30th grain state write fails with a serialization failure. The sequence counts writes
        // outside the failing transactions, so a retried write goes through.
        const int FailEvery = 30;
        await ExecuteAsync(dataSource, $"""
            CREATE SEQUENCE injected_fault_writes;
            CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('injected_fault_writes') % {FailEvery} = 0 THEN
                    RAISE EXCEPTION 'injected fault' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER inject_fault BEFORE INSERT OR UPDATE ON orleansstorage FOR EACH ROW EXECUTE FUNCTION inject_fault();
            """);

        // Running the import again completes it, and the result is the same as a clean import of the five editions.
        var completed = await EditionUpload.ImportAllAsync(server.Channel, Rest.Select(RegistryData.PathOf));
        await using (var count = dataSource.CreateCommand("SELECT last_value FROM injected_fault_writes"))
        {
            var injected = (long)(await count.ExecuteScalarAsync())! / FailEvery;
            Assert.True(injected >= 20, $"only {injected} faults were injected");
        }

        await ExecuteAsync(dataSource, "DROP TRIGGER inject_fault ON orleansstorage");
        Assert.All(completed, p => Assert.Contains(p[^1].Stage, new[] { ImportStage.Committed, ImportStage.AlreadyImported }));

        await using var clean = new ServerProcess(fixture.Postgres.ConnectionString("crash-clean"));
        await clean.StartAsync();
        Assert.All(await EditionUpload.ImportAllAsync(clean.Channel, First.Concat(Rest).Select(RegistryData.PathOf)), p => Assert.Equal(ImportStage.Committed, p[^1].Stage));
        Assert.Equal(await RegistryDigest.ComputeAsync(clean.Channel, diff: ("rfc1060", "rfc1700")), await RegistryDigest.ComputeAsync(server.Channel, diff: ("rfc1060", "rfc1700")));
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
