using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Tests;

/// <summary>The CLI asks a briefly unavailable server again for reads, and never for calls that change something.</summary>
public sealed class ServerRetryTests
{
    [Fact]
    public async Task A_read_refused_as_unavailable_twice_is_asked_again_and_answers()
    {
        var registry = new FlakyRegistry(failures: 2);
        await using var server = await FakeGrpcServer.StartAsync(registry);

        var run = await CliRun.RunAsync("editions", "--server", server.Address, "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(3, registry.Calls);
    }

    [Fact]
    public async Task A_token_list_refused_as_unavailable_is_not_asked_again()
    {
        var access = new FlakyAccess(failures: 1);
        await using var server = await FakeGrpcServer.StartAsync(access);

        var run = await CliRun.RunAsync("token", "list", "--server", server.Address, "--token", "t");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Unavailable", run.Error);
        Assert.Equal(1, access.Calls);
    }

    private sealed class FlakyRegistry(int failures) : PortRegistry.PortRegistryBase
    {
        private int _calls;

        public int Calls => _calls;

        public override Task<ListEditionsResponse> ListEditions(ListEditionsRequest request, ServerCallContext context) =>
            Interlocked.Increment(ref _calls) <= failures
                ? throw new RpcException(new Status(StatusCode.Unavailable, "silo restarting"))
                : Task.FromResult(new ListEditionsResponse());
    }

    private sealed class FlakyAccess(int failures) : AccessAdmin.AccessAdminBase
    {
        private int _calls;

        public int Calls => _calls;

        public override Task<ListTokensResponse> ListTokens(ListTokensRequest request, ServerCallContext context) =>
            Interlocked.Increment(ref _calls) <= failures
                ? throw new RpcException(new Status(StatusCode.Unavailable, "silo restarting"))
                : Task.FromResult(new ListTokensResponse());
    }
}
