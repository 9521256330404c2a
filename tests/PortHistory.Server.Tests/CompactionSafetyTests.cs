using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;
using ObservationsService = PortHistory.Contracts.V1.Observations;

namespace PortHistory.Server.Tests;

/// <summary>The journal is compacted only below what port states have stored: a crash never loses acknowledged sightings.</summary>
[Collection(ServerCollection.Name)]
public sealed class CompactionSafetyTests(RegistryServerFixture fixture)
{
    [Fact]
    public async Task Refreshing_verdicts_after_an_import_then_compacting_then_a_kill_loses_no_acknowledged_sighting()
    {
        const uint port = 50123;
        // A port checkpoints after 10 new sightings, or after an hour: the last 5 below stay in memory only.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "compaction", new Dictionary<string, string>
        {
            ["PortHistory__Verdicts__CheckpointEvery"] = "10",
            ["PortHistory__Verdicts__CheckpointInterval"] = "01:00:00",
            ["PortHistory__Sightings__CompactionInterval"] = "00:00:00.200",
        });
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("compaction"));
        var agent = new Sightings.SightingsClient(server.Agent);
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        Task<GetObservedResponse> ReadAsync() => observed.GetObservedAsync(new GetObservedRequest { Port = port }).ResponseAsync;

        Assert.Equal(10u, (await agent.ReportBatchAsync(Batch(Enumerable.Range(0, 10).Select(i => Sighting($"c-{i}", port, Transport.Tcp, "daemon"))))).Accepted);
        await SightingsServer.EventuallyAsync(() => ScalarAsync(database, $"SELECT count(*) FROM port_observations WHERE port = {port}"), n => n == 1);
        Assert.Equal(5u, (await agent.ReportBatchAsync(Batch(Enumerable.Range(10, 5).Select(i => Sighting($"c-{i}", port, Transport.Tcp, "daemon"))))).Accepted);
        await SightingsServer.EventuallyAsync(ReadAsync, r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings == 15);
        var indexedBefore = await ScalarAsync(database, $"SELECT extract(epoch FROM updated_at) * 1000000 FROM port_observations WHERE port = {port}");

        // An import refreshes the verdicts of every observed port (this one's registry does not change: it is never assigned).
        await EditionUpload.ImportAsync(server.Admin, RegistryData.PathOf("service-names-port-numbers_2024-04-30.xml"));
        await SightingsServer.EventuallyAsync(
            () => ScalarAsync(database, $"SELECT extract(epoch FROM updated_at) * 1000000 FROM port_observations WHERE port = {port}"), t => t > indexedBefore);

        // A compaction pass after the refresh: a hand-made row below a recorded watermark is deleted by it.
        await ExecuteAsync(database, """
            WITH w AS (INSERT INTO sighting_writers DEFAULT VALUES RETURNING writer_id),
                 j AS (INSERT INTO sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                                                     bind_scope, socket_state, process, executable, pid, username, privileged, container_id,
                                                     network_namespace, batch_id)
                       SELECT writer_id, 1, 65000, 1, 1, 'sentinel', now(), 1, '', 1, 1, 's', '', 1, '', true, '', '', gen_random_uuid() FROM w)
            INSERT INTO port_watermarks (port, writer_id, seq) SELECT 65000, writer_id, 1 FROM w
            """);
        await SightingsServer.EventuallyAsync(() => ScalarAsync(database, "SELECT count(*) FROM sighting_journal WHERE port = 65000"), n => n == 0);

        await server.Server.KillAsync();
        await server.Server.StartAsync();

        var after = await SightingsServer.EventuallyAsync(ReadAsync, r => r.Observed.Transports.Count == 1);
        Assert.Equal((15ul, 15ul), (after.Observed.Transports[0].Sightings, after.Observed.Transports[0].DistinctHosts));
    }

    private static async Task<double> ScalarAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
