using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Tests;

/// <summary>The CLI asks a briefly unavailable server again for reads, and never for calls that change something.</summary>
public sealed class ServerRetryTests
{
    [Fact]
    public async Task A_read_refused_as_unavailable_twice_is_asked_again_and_answers()
    {
        await using var server = await FlakyServer.StartAsync(failures: 2);

        var run = await CliRun.RunAsync("editions", "--server", server.Address, "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(3, server.Registry.Calls);
    }

    [Fact]
    public async Task A_token_list_refused_as_unavailable_is_not_asked_again()
    {
        await using var server = await FlakyServer.StartAsync(failures: 1);

        var run = await CliRun.RunAsync("token", "list", "--server", server.Address, "--token", "t");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Unavailable", run.Error);
        Assert.Equal(1, server.Access.Calls);
    }

    private sealed class FlakyServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private FlakyServer(WebApplication app, FlakyRegistry registry, FlakyAccess access)
        {
            _app = app;
            Registry = registry;
            Access = access;
        }

        public FlakyRegistry Registry { get; }

        public FlakyAccess Access { get; }

        public string Address => _app.Urls.Single();

        public static async Task<FlakyServer> StartAsync(int failures)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            var registry = new FlakyRegistry(failures);
            var access = new FlakyAccess(failures);
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(registry);
            builder.Services.AddSingleton(access);
            var app = builder.Build();
            app.MapGrpcService<FlakyRegistry>();
            app.MapGrpcService<FlakyAccess>();
            await app.StartAsync();
            return new FlakyServer(app, registry, access);
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
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
