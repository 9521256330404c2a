using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ImportCrashTests(RegistryServerFixture fixture)
{
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
        var client = new PortRegistry.PortRegistryClient(server.Channel);
        var rfcs = RegistryData.EditionFiles.Where(f => f.StartsWith("rfc", StringComparison.Ordinal)).Select(RegistryData.PathOf).ToList();
        var rest = RegistryData.EditionFiles.Where(f => !f.StartsWith("rfc", StringComparison.Ordinal)).Select(RegistryData.PathOf).ToList();
        Assert.All(await EditionUpload.ImportAllAsync(server.Channel, rfcs), p => Assert.Equal(ImportStage.Committed, p[^1].Stage));
        var editionsBefore = await client.ListEditionsAsync(new ListEditionsRequest());
        var timelineBefore = await client.GetTimelineAsync(new GetTimelineRequest { Port = 22 });

        // Import the IANA editions and kill the server a quarter of the way through staging ~49,000 ports.
        var midway = new TaskCompletionSource<ImportEditionProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        var uploads = rest.Select(path => EditionUpload.ImportAsync(server.Channel, path, onProgress: p =>
        {
            if (p.Stage == ImportStage.Staging && p.Total > 10_000 && p.Done >= p.Total / 4) midway.TrySetResult(p);
        })).ToList();
        var staged = await midway.Task.WaitAsync(TimeSpan.FromMinutes(5));
        await server.KillAsync();
        await Task.WhenAll(uploads.Select(u => u.ContinueWith(_ => { }, TaskScheduler.Default)));
        Assert.True(staged.Done < staged.Total);

        await server.StartAsync();
        Assert.Equal(editionsBefore, await client.ListEditionsAsync(new ListEditionsRequest()));
        Assert.Equal(timelineBefore, await client.GetTimelineAsync(new GetTimelineRequest { Port = 22 }));

        // From now on every 300th grain state write fails with a serialization failure. The sequence counts writes
        // outside the failing transactions, so a retried write goes through.
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await ExecuteAsync(dataSource, """
            CREATE SEQUENCE injected_fault_writes;
            CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('injected_fault_writes') % 300 = 0 THEN
                    RAISE EXCEPTION 'injected fault' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER inject_fault BEFORE INSERT OR UPDATE ON orleansstorage FOR EACH ROW EXECUTE FUNCTION inject_fault();
            """);

        // Running the import again completes it, and the result is the same as a clean import.
        var completed = await EditionUpload.ImportAllAsync(server.Channel, rest);
        await using (var count = dataSource.CreateCommand("SELECT last_value FROM injected_fault_writes"))
        {
            var injected = (long)(await count.ExecuteScalarAsync())! / 300;
            Assert.True(injected >= 20, $"only {injected} faults were injected");
        }

        await ExecuteAsync(dataSource, "DROP TRIGGER inject_fault ON orleansstorage");
        Assert.All(completed, p => Assert.Contains(p[^1].Stage, new[] { ImportStage.Committed, ImportStage.AlreadyImported }));
        Assert.Equal(await RegistryDigest.ComputeAsync(fixture.Server.Channel), await RegistryDigest.ComputeAsync(server.Channel));
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
