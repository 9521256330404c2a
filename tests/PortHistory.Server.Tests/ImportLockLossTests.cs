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
        var edition = RegistryData.PathOf("rfc1340.txt");

        // Staging starts and no port's write goes through until the generation has been aborted, as another silo
        // aborts it when this one's lock connection has dropped: however quickly staging would run, it cannot commit first.
        var staging = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<IReadOnlyList<ImportEditionProgress>> first;
        await using (var gate = await GrainWriteGate.CloseAsync(database, pass: 0))
        {
            first = EditionUpload.ImportAsync(server.Channel, edition, onProgress: p =>
            {
                if (p.Stage == ImportStage.Staging) staging.TrySetResult((long)p.Generation);
            });
            await staging.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await using var abort = database.CreateCommand("UPDATE registry_generations SET state = 'aborted', finished_at = now() WHERE state = 'applying'");
            Assert.Equal(1, await abort.ExecuteNonQueryAsync());
        }

        var refused = await RegistryServerFixture.FailsAsync(() => first);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("import lock was lost", refused.Status.Detail);
        var abortedGeneration = await staging.Task;

        // The importer retries by itself; running the import again waits for it.
        var again = await EditionUpload.ImportAsync(server.Channel, edition);
        Assert.Contains(again[^1].Stage, new[] { ImportStage.Committed, ImportStage.AlreadyImported });

        Assert.Equal("aborted", await StateAsync(abortedGeneration));
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
