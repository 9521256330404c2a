using Grpc.Core;
using Grpc.Health.V1;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task While_postgresql_is_down_calls_that_need_it_are_unavailable_and_the_server_recovers_when_it_returns()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await using var server = new ServerProcess(postgres.ConnectionString("outage"));
        await server.StartAsync();
        await EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf("rfc1340.txt"));
        var client = new PortRegistry.PortRegistryClient(server.Channel);
        var health = new Health.HealthClient(server.AnonymousChannel);
        var active = await client.GetPortAsync(new GetPortRequest { Port = 771 });
        var process = server.ProcessId;
        // Issued but never presented: checking it needs PostgreSQL.
        var unseen = (await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(
            new IssueTokenRequest { Name = "unseen reader", Role = Role.Reader })).Token;
        using var unseenChannel = server.ChannelWith(() => unseen);
        var unseenReader = new PortRegistry.PortRegistryClient(unseenChannel);

        await postgres.StopAsync();

        // An active port grain still answers from memory; anything that must read PostgreSQL is Unavailable
        // (port 40000 has never been activated: RFC 1340 does not list it).
        Assert.Equal(active, await client.GetPortAsync(new GetPortRequest { Port = 771 }));
        var activation = await RegistryServerFixture.FailsAsync(() => client.GetPortAsync(new GetPortRequest { Port = 40000 }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, activation.StatusCode);
        var listing = await RegistryServerFixture.FailsAsync(() => client.ListEditionsAsync(new ListEditionsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, listing.StatusCode);
        // A token that cannot be checked is not called unknown: the caller is told to retry, not that it was refused.
        var uncheckable = await RegistryServerFixture.FailsAsync(() => unseenReader.GetPortAsync(new GetPortRequest { Port = 771 }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, uncheckable.StatusCode);
        // Health asks PostgreSQL at most once a second: the answer given just before the stop may be repeated until then.
        await PortHistory.Testing.Eventually.Async(async () => (await health.CheckAsync(new HealthCheckRequest())).Status,
            status => status == HealthCheckResponse.Types.ServingStatus.NotServing, TimeSpan.FromSeconds(5));

        await postgres.StartAgainAsync();
        await server.WaitUntilServingAsync(TimeSpan.FromSeconds(60));
        var recovered = await Eventually(() => client.GetPortAsync(new GetPortRequest { Port = 40000 }).ResponseAsync);
        Assert.Equal(40000u, recovered.Port);
        Assert.Single((await client.ListEditionsAsync(new ListEditionsRequest())).Editions);
        Assert.Equal(771u, (await Eventually(() => unseenReader.GetPortAsync(new GetPortRequest { Port = 771 }).ResponseAsync)).Port);
        Assert.Equal(process, server.ProcessId);
        // The log says so once each way, however many probes asked meanwhile.
        Assert.Single(server.LogLines("Health check ready is unhealthy: PostgreSQL is unavailable"));
        Assert.Single(server.LogLines("Health check ready is healthy again"));
    }

    /// <summary>Retries while the server reports Unavailable (pooled connections to the old PostgreSQL are being replaced).</summary>
    private static async Task<T> Eventually<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
