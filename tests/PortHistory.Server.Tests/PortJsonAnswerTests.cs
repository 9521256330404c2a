using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// <c>GET /v1/ports/{port}</c> is served from the port's published answer: after the first call each one is the same
/// bytes without a grain call, the same answer as gRPC's, and a change to the port is in the next answer.
/// </summary>
[Collection(HttpJsonCollection.Name)]
public sealed class PortJsonAnswerTests(HttpJsonServer fixture)
{
    private const int Port = 772;

    [Fact]
    public async Task After_the_first_call_a_port_is_sent_as_kept_bytes_and_a_change_to_it_is_in_the_next_answer()
    {
        var server = fixture.Server;
        using var channel = server.ChannelWith(() => fixture.ReaderToken);
        var registry = new PortRegistry.PortRegistryClient(channel);
        using var scrape = PrometheusScrape.Client(server);
        // The port's grain publishes its answer once active: gRPC reads until one is answered from the board.
        var start = await PrometheusScrape.ReadAsync(scrape);
        await Eventually.Async(async () =>
        {
            await registry.GetPortAsync(new GetPortRequest { Port = Port });
            return await PrometheusScrape.ReadAsync(scrape);
        }, s => PrometheusScrape.Delta(s, start, "porthistory_getport_answers_total", ("source", "board")) >= 1, TimeSpan.FromSeconds(30));
        var viaGrpc = await registry.GetPortAsync(new GetPortRequest { Port = Port });

        using var http = Client(fixture.ReaderToken);
        var before = await PrometheusScrape.ReadAsync(scrape);
        const int Reads = 5;
        var bodies = new List<byte[]>();
        for (var i = 0; i < Reads; i++) bodies.Add(await ReadAsync(http));
        var after = await PrometheusScrape.ReadAsync(scrape);

        Assert.All(bodies, body => Assert.Equal(bodies[0], body));
        Assert.Equal(viaGrpc, JsonParser.Default.Parse<GetPortResponse>(System.Text.Encoding.UTF8.GetString(bodies[0])));
        // The first through the transcoding (to the grain), the rest as the kept bytes; each counted as a GetPort call.
        Assert.Equal(1, PrometheusScrape.Delta(after, before, "porthistory_getport_answers_total", ("source", "grain")));
        Assert.Equal(Reads - 1, PrometheusScrape.Delta(after, before, "porthistory_getport_answers_total", ("source", "board")));
        Assert.Equal(Reads, PrometheusScrape.Delta(after, before, "porthistory_rpc_calls_total", ("rpc_method", "GetPort"), ("rpc_grpc_status_code", "0")));

        // Hosts report the port: the kept body went with the answer it was made from.
        var sightings = new Sightings.SightingsClient(server.Channel);
        await sightings.ReportBatchAsync(Batch(Enumerable.Range(1, 3).Select(h => Sighting($"json-{h}", Port, Transport.Tcp, "remotefs"))));
        var changed = await Eventually.Async(async () => JsonParser.Default.Parse<GetPortResponse>(System.Text.Encoding.UTF8.GetString(await ReadAsync(http))),
            answer => answer.Observed?.ReportingHosts >= 3 && answer.Observed.Transports.Any(t => t.Processes.Any(p => p.ProcessName == "remotefs")),
            TimeSpan.FromSeconds(30));
        Assert.NotEqual(viaGrpc, changed);
        await Eventually.Async(async () => (Grpc: await registry.GetPortAsync(new GetPortRequest { Port = Port }),
                Json: JsonParser.Default.Parse<GetPortResponse>(System.Text.Encoding.UTF8.GetString(await ReadAsync(http)))),
            pair => pair.Grpc.Equals(pair.Json), TimeSpan.FromSeconds(30));

        // Refused as before: no token, and an admin's answer (which names hosts) is never the kept one.
        using var anonymous = new HttpClient { DefaultRequestVersion = HttpVersion.Version11 };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{server.HttpAddress}/v1/ports/{Port}")).StatusCode);
        using var admin = Client(server.AdminToken);
        var adminAnswer = JsonParser.Default.Parse<GetPortResponse>(System.Text.Encoding.UTF8.GetString(await ReadAsync(admin)));
        Assert.Contains(adminAnswer.Observed.Transports.SelectMany(t => t.Processes), p => p.HostRefs.Contains("json-1"));
    }

    private async Task<byte[]> ReadAsync(HttpClient http)
    {
        using var response = await http.GetAsync($"{fixture.Server.HttpAddress}/v1/ports/{Port}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static HttpClient Client(string token)
    {
        var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
