using PortHistory.Contracts.V1;

namespace PortHistory.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class RestartTests(RegistryServerFixture fixture)
{
    [Fact]
    public async Task A_new_process_on_the_same_database_answers_identically_and_imports_nothing()
    {
        var client = fixture.Registry;
        var digest = await RegistryDigest.ComputeAsync(fixture.Server.Channel);
        var editions = await client.ListEditionsAsync(new ListEditionsRequest());
        var firstProcess = fixture.Server.ProcessId;

        await fixture.Server.KillAsync();
        await fixture.Server.StartAsync();

        Assert.NotEqual(firstProcess, fixture.Server.ProcessId);
        // Same editions, same import times and generation: nothing was imported again.
        Assert.Equal(editions, await client.ListEditionsAsync(new ListEditionsRequest()));
        Assert.Equal(digest, await RegistryDigest.ComputeAsync(fixture.Server.Channel));
    }
}
