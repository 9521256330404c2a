using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// Generated and byte-mutated messages to every RPC of the real server: none is answered Internal or Unknown, the
/// server stays up, and every port touched still answers afterwards.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class WireFuzzTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    /// <summary>Calls the suite sends (PORTHISTORY_FUZZ_SEED chooses the seed; unset, a fixed one).</summary>
    public const int Messages = 4_000;

    [Fact]
    public async Task Generated_and_mutated_messages_to_every_rpc_get_no_internal_or_unknown_answer_and_leave_every_port_answering()
    {
        var server = await resources.SharedAsync("fuzz", () => SightingsServer.StartAsync(fixture.Postgres, "fuzz"));
        var seed = WireFuzz.SeedFromEnvironment();

        var report = await WireFuzz.RunAsync(server.Admin, server.Agent, server.Server.AnonymousChannel, Messages, seed);

        Exception? down = null;
        try
        {
            // Throws at once when the process has exited; otherwise returns as soon as grpc.health.v1 says SERVING.
            await server.Server.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            down = e;
        }

        Assert.True(down is null, $"the server is not up after the fuzz run: {down?.Message}\n{report}");
        Assert.True(report.Sent >= Messages, $"only {report.Sent} of {Messages} messages were sent\n{report}");
        Assert.True(report.Passed, $"{report}\nserver errors:\n{server.Server.Problems}");
    }
}
