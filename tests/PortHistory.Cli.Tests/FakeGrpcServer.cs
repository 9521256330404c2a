using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PortHistory.Cli.Tests;

/// <summary>An in-process gRPC server on a free loopback port (h2c) serving the given service instance.</summary>
public sealed class FakeGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeGrpcServer(WebApplication app) => _app = app;

    public string Address => _app.Urls.Single();

    public static async Task<FakeGrpcServer> StartAsync<TService>(TService service) where TService : class
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<TService>();
        await app.StartAsync();
        return new FakeGrpcServer(app);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
