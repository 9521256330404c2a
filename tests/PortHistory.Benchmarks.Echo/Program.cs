using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using PortHistory.Benchmarks.Echo;

// Usage: PortHistory.Benchmarks.Echo <port> [<http1 port>]. Nothing but the gRPC stack: the ceiling a gRPC service can
// reach here (Say echoes the request; Sized answers a constant message of the asked size). With a second port, also
// GET /bytes/{n} over HTTP/1.1: a minimal ASP.NET endpoint answering a constant body of n bytes, the ceiling of an
// HTTP/JSON read of that size.
var port = int.Parse(args.FirstOrDefault() ?? "7790", System.Globalization.CultureInfo.InvariantCulture);
var http1Port = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.ListenLocalhost(port, o => o.Protocols = HttpProtocols.Http2);
    if (http1Port > 0) k.ListenLocalhost(http1Port, o => o.Protocols = HttpProtocols.Http1);
});
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<EchoService>();
var bodies = new ConcurrentDictionary<int, byte[]>();
app.MapGet("/bytes/{size:int}", (int size) => Results.Bytes(bodies.GetOrAdd(Math.Clamp(size, 2, 1 << 20), ConstantJson), "application/json; charset=utf-8"));
app.Run();

// {"x":"aaa…"} of exactly n bytes (at least 9).
static byte[] ConstantJson(int size)
{
    if (size < 9) return "{}"u8.ToArray();
    var body = new byte[size];
    Array.Fill(body, (byte)'a');
    "{\"x\":\""u8.CopyTo(body);
    body[^2] = (byte)'"';
    body[^1] = (byte)'}';
    return body;
}

internal sealed class EchoService : Echo.EchoBase
{
    // Static: grpc-dotnet makes a service per call.
    private static readonly ConcurrentDictionary<int, Task<EchoMessage>> SizedAnswers = new();

    public override Task<EchoMessage> Say(EchoMessage request, ServerCallContext context) => Task.FromResult(request);

    public override Task<EchoMessage> Sized(SizedRequest request, ServerCallContext context) =>
        SizedAnswers.GetOrAdd((int)Math.Clamp(request.Size, 8, 1 << 20), size => Task.FromResult(OfSize(size)));

    // A payload whose message encodes to exactly `size` bytes (a tag byte and a length prefix of 1-3 bytes before it).
    private static EchoMessage OfSize(int size)
    {
        var payload = size - 2;
        while (payload > 0 && new EchoMessage { Payload = Google.Protobuf.ByteString.CopyFrom(new byte[payload]) }.CalculateSize() > size) payload--;
        return new EchoMessage { Payload = Google.Protobuf.ByteString.CopyFrom(new byte[payload]) };
    }
}
