using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using PortHistory.Benchmarks.Echo;

// Usage: PortHistory.Benchmarks.Echo <port>. Nothing but the gRPC stack: the ceiling a gRPC service can reach here.
var port = int.Parse(args.FirstOrDefault() ?? "7790", System.Globalization.CultureInfo.InvariantCulture);
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, o => o.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<EchoService>();
app.Run();

internal sealed class EchoService : Echo.EchoBase
{
    public override Task<EchoMessage> Say(EchoMessage request, ServerCallContext context) => Task.FromResult(request);
}
