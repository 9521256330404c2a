using Grpc.Core;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>An importer that lost its lock while staging does not commit the generation another importer aborted.</summary>
[Collection(ServerCollection.Name)]
public sealed class ImportLockLossTests(RegistryServerFixture fixture)
{
    [Fact]
    public async Task A_generation_aborted_while_it_is_staged_is_not_committed_and_the_edition_lands_in_a_later_generation()
    {
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("lock-loss"));
        await server.StartAsync();
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("lock-loss"));
        var edition = RegistryData.PathOf("service-names-port-numbers_2026-08-17.xml");

        // As soon as staging starts, do what another silo does when this one's lock connection has dropped: abort the
        // generation being applied.
        long? abortedGeneration = null;
        var first = await RegistryServerFixture.FailsAsync(() => EditionUpload.ImportAsync(server.Channel, edition, onProgress: p =>
        {
            if (p.Stage != ImportStage.Staging || abortedGeneration is not null) return;
            abortedGeneration = (long)p.Generation;
            using var abort = database.CreateCommand("UPDATE registry_generations SET state = 'aborted', finished_at = now() WHERE state = 'applying'");
            Assert.Equal(1, abort.ExecuteNonQuery());
        }));
        Assert.Equal(StatusCode.Unavailable, first.StatusCode);
        Assert.Contains("import lock was lost", first.Status.Detail);
        Assert.NotNull(abortedGeneration);

        // The importer retries by itself; running the import again waits for it.
        var again = await EditionUpload.ImportAsync(server.Channel, edition);
        Assert.Contains(again[^1].Stage, new[] { ImportStage.Committed, ImportStage.AlreadyImported });

        Assert.Equal("aborted", await StateAsync(abortedGeneration.Value));
        var committed = (long)(await new PortRegistry.PortRegistryClient(server.Channel).ListEditionsAsync(new ListEditionsRequest())).Generation;
        Assert.True(committed > abortedGeneration, $"committed generation {committed}, aborted {abortedGeneration}");
        Assert.Equal("committed", await StateAsync(committed));
        var port = await new PortRegistry.PortRegistryClient(server.Channel).GetPortAsync(new GetPortRequest { Port = 776, Transport = Transport.Udp });
        Assert.Equal("wpages", port.Transports.Single(t => t.Transport == Transport.Udp).Records.Single().ServiceName);

        async Task<string> StateAsync(long generation)
        {
            await using var command = database.CreateCommand("SELECT state FROM registry_generations WHERE generation = @g");
            command.Parameters.AddWithValue("g", generation);
            return (string)(await command.ExecuteScalarAsync())!;
        }
    }
}
