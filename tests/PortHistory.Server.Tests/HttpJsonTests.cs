// Over 250 lines: the cases share one server (starting it is most of their cost); another class would start another.
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// The HTTP/JSON API: the curl lines of docs/api.md, run as they are written against a real server, answer what the
/// document says; the JSON is the gRPC answer's; tokens and roles are gRPC's; the OpenAPI document lists the routes.
/// </summary>
[Collection(HttpJsonCollection.Name)]
public sealed class HttpJsonTests(HttpJsonServer fixture)
{
    /// <summary>Where the examples are, between the http-json-examples markers.</summary>
    private const string ExamplesFile = "docs/api.md";

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task The_documented_port_and_timeline_examples_answer_from_the_registry()
    {
        var port = await RunExampleAsync("/v1/ports/776?");
        var transports = port.Json.GetProperty("transports").EnumerateArray().ToList();
        var udp = Assert.Single(transports);
        Assert.Equal("TRANSPORT_UDP", udp.GetProperty("transport").GetString());
        Assert.Equal("wpages", udp.GetProperty("records")[0].GetProperty("serviceName").GetString());
        Assert.Equal(776, port.Json.GetProperty("port").GetInt32());

        var timeline = await RunExampleAsync("/v1/ports/771/timeline");
        var names = timeline.Json.GetProperty("timelines").EnumerateArray()
            .SelectMany(t => t.GetProperty("versions").EnumerateArray())
            .SelectMany(v => v.TryGetProperty("records", out var records) ? records.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(r => r.GetProperty("serviceName").GetString())
            .ToHashSet();
        Assert.Contains("rtip", names);

        var editions = await RunExampleAsync("/v1/editions");
        Assert.Equal(["rfc1060", "rfc1340", "iana-xml-2024-04-30", "iana-xml-2026-08-17"],
            editions.Json.GetProperty("editions").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task The_documented_diff_example_streams_one_JSON_object_per_line()
    {
        var (output, _) = await RunAsync(Example("/v1/diff?"));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var messages = lines.Select(line => JsonParser.Default.Parse<DiffEditionsResponse>(line)).ToList();
        Assert.All(messages, m => Assert.Equal("rfc1340", m.From.Id));
        Assert.All(messages, m => Assert.Equal("iana-xml-2026-08-17", m.To.Id));
        var entries = messages.SelectMany(m => m.Entries).ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.InRange(Assert.IsType<PortRange>(e.Ports).First, 770u, 779u));
    }

    [Fact]
    public async Task The_documented_error_examples_answer_the_gRPC_status_as_JSON()
    {
        var anonymous = await RunExampleAsync("/v1/ports/776\"", statusLine: true);
        Assert.Equal(401, anonymous.HttpStatus);
        Assert.Equal((int)Grpc.Core.StatusCode.Unauthenticated, anonymous.Json.GetProperty("code").GetInt32());
        Assert.StartsWith("authorization:", anonymous.Json.GetProperty("message").GetString());

        var outOfRange = await RunExampleAsync("/v1/ports/70000", statusLine: true);
        Assert.Equal(400, outOfRange.HttpStatus);
        Assert.Equal((int)Grpc.Core.StatusCode.InvalidArgument, outOfRange.Json.GetProperty("code").GetInt32());
        Assert.Equal("port: must be 0-65535, got 70000", outOfRange.Json.GetProperty("message").GetString());
        var violation = Assert.Single(outOfRange.Json.GetProperty("details").EnumerateArray());
        Assert.Equal("type.googleapis.com/google.rpc.BadRequest", violation.GetProperty("@type").GetString());
        Assert.Equal("port", violation.GetProperty("fieldViolations")[0].GetProperty("field").GetString());
        Assert.Equal("must be 0-65535, got 70000", violation.GetProperty("fieldViolations")[0].GetProperty("description").GetString());

        // gRPC callers have the same details in the grpc-status-details-bin trailer.
        var refused = await RegistryServerFixture.FailsAsync(() => new PortRegistry.PortRegistryClient(Server.Channel).GetPortAsync(new GetPortRequest { Port = 70000 }).ResponseAsync);
        var details = Google.Rpc.Status.Parser.ParseFrom(refused.Trailers.GetValueBytes("grpc-status-details-bin"));
        Assert.Equal("port", details.Details.Single().Unpack<Google.Rpc.BadRequest>().FieldViolations.Single().Field);
    }

    [Fact]
    public async Task The_documented_sighting_is_recorded_and_then_observed()
    {
        var result = await RunExampleAsync("/v1/sightings:batch");
        Assert.Equal(1, result.Json.GetProperty("accepted").GetInt32());
        Assert.True(Guid.TryParse(result.Json.GetProperty("batchId").GetString(), out _));
        Assert.False(result.Json.TryGetProperty("rejected", out var rejected) && rejected.GetArrayLength() > 0, result.Text);

        var observed = await Eventually.Async(() => RunExampleAsync("/v1/ports/776/observed"),
            o => Processes(o.Json).Contains("rpc.statd"), TimeSpan.FromSeconds(30));
        var udp = observed.Json.GetProperty("observed").GetProperty("transports").EnumerateArray()
            .Single(t => t.GetProperty("transport").GetString() == "TRANSPORT_UDP");
        Assert.Equal("web-12", udp.GetProperty("processes")[0].GetProperty("hostRefs")[0].GetString());
    }

    [Fact]
    public async Task A_port_over_HTTP_JSON_is_the_gRPC_answer_even_when_the_gateway_serves_it_pre_encoded()
    {
        // A reader's: an admin's answer names hosts, and is never the published one.
        using var channel = Server.ChannelWith(() => fixture.ReaderToken);
        var registry = new PortRegistry.PortRegistryClient(channel);
        // Twice: the first call activates the grain, which publishes the answer later calls are served from.
        await registry.GetPortAsync(new GetPortRequest { Port = 771 });
        var viaGrpc = await registry.GetPortAsync(new GetPortRequest { Port = 771 });
        Assert.Contains(viaGrpc.Transports, t => t.Records.Count > 0);

        using var http = Client(fixture.ReaderToken);
        for (var i = 0; i < 3; i++)
        {
            var json = await http.GetStringAsync($"{Server.HttpAddress}/v1/ports/771");
            Assert.Equal(viaGrpc, JsonParser.Default.Parse<GetPortResponse>(json));
        }
    }

    [Fact]
    public async Task Tokens_and_roles_are_those_of_gRPC_over_HTTP_1_1()
    {
        using var reader = Client(fixture.ReaderToken);
        using var read = await reader.GetAsync($"{Server.HttpAddress}/v1/ports/776");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpVersion.Version11, read.Version);

        // A reader may not report sightings.
        using var report = await reader.PostAsync($"{Server.HttpAddress}/v1/sightings:batch",
            new StringContent($$"""{"batchId": "{{Guid.NewGuid()}}"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, report.StatusCode);
        var refusal = JsonDocument.Parse(await report.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)Grpc.Core.StatusCode.PermissionDenied, refusal.GetProperty("code").GetInt32());

        using var unknown = Client("not-a-token");
        using var refused = await unknown.GetAsync($"{Server.HttpAddress}/v1/editions");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Malformed_JSON_is_InvalidArgument()
    {
        using var admin = Client(fixture.Server.AdminToken);
        using var response = await admin.PostAsync($"{Server.HttpAddress}/v1/sightings:batch",
            new StringContent("""{"batchId": [1, 2""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)Grpc.Core.StatusCode.InvalidArgument, status.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_OpenAPI_document_is_served_without_a_token_and_lists_every_route()
    {
        using var anonymous = new HttpClient();
        var document = JsonDocument.Parse(await anonymous.GetStringAsync($"{Server.HttpAddress}/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var route in new[]
                 {
                     "/v1/ports/{port}", "/v1/ports/{port}/timeline", "/v1/ports/{port}/observed", "/v1/services/{name}", "/v1/editions",
                     "/v1/diff", "/v1/ports", "/v1/discrepancies", "/v1/sightings:batch",
                 })
        {
            Assert.Contains(route, paths);
        }

        Assert.True(document.GetProperty("paths").GetProperty("/v1/sightings:batch").TryGetProperty("post", out _));
    }

    [Fact]
    public async Task The_page_names_its_icon_and_both_icons_are_served_under_the_page_policy()
    {
        using var anonymous = new HttpClient();
        var page = await anonymous.GetStringAsync($"{Server.HttpAddress}/");
        Assert.Contains("<link rel=\"icon\" href=\"favicon.svg\" type=\"image/svg+xml\">", page, StringComparison.Ordinal);
        // /favicon.ico is what browsers ask for when a page names no icon, and what the page names for those without SVG icons.
        foreach (var (path, type, start) in new[] { ("/favicon.ico", "image/x-icon", new byte[] { 0, 0, 1, 0 }), ("/favicon.svg", "image/svg+xml", "<svg "u8.ToArray()) })
        {
            using var answer = await anonymous.GetAsync($"{Server.HttpAddress}{path}");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(type, answer.Content.Headers.ContentType?.MediaType);
            Assert.Equal(start, (await answer.Content.ReadAsByteArrayAsync())[..start.Length]);
            Assert.Equal(Hosting.HostingExtensions.WebPageContentSecurityPolicy, Assert.Single(answer.Headers.GetValues("Content-Security-Policy")));
        }
    }

    private static HttpClient Client(string token)
    {
        var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static HashSet<string?> Processes(JsonElement observed) =>
        observed.TryGetProperty("observed", out var summary) && summary.TryGetProperty("transports", out var transports)
            ? transports.EnumerateArray()
                .SelectMany(t => t.TryGetProperty("processes", out var p) ? p.EnumerateArray() : Enumerable.Empty<JsonElement>())
                .Select(p => p.GetProperty("processName").GetString())
                .ToHashSet()
            : [];

    private sealed record Answer(string Text, JsonElement Json, int? HttpStatus);

    /// <summary>Runs the documented example whose URL contains <paramref name="route"/> and parses its JSON.</summary>
    private async Task<Answer> RunExampleAsync(string route, bool statusLine = false)
    {
        var (output, command) = await RunAsync(Example(route));
        int? status = null;
        var text = output.TrimEnd('\n');
        if (statusLine)
        {
            // The example prints the HTTP status on a line of its own after the body (curl -w).
            var last = text.LastIndexOf('\n');
            status = int.Parse(text[(last + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            text = text[..last];
        }

        try
        {
            return new Answer(text, JsonDocument.Parse(text).RootElement.Clone(), status);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"{command}\nanswered what is not JSON ({e.Message}):\n{output}");
        }
    }

    /// <summary>The curl command of the HTTP/JSON examples whose text contains <paramref name="route"/>.</summary>
    private static string Example(string route)
    {
        var matching = Examples().Where(c => c.StartsWith("curl ", StringComparison.Ordinal) && c.Contains(route, StringComparison.Ordinal)).ToList();
        return matching.Count == 1 ? matching[0] : throw new Xunit.Sdk.XunitException($"{ExamplesFile} has {matching.Count} examples with {route}");
    }

    /// <summary>The commands of the block between the http-json-examples markers, with their continuation lines.</summary>
    private static IReadOnlyList<string> Examples()
    {
        var text = File.ReadAllText(Path.Combine(RegistryData.RepositoryRoot, ExamplesFile));
        const string begin = "<!-- http-json-examples -->", end = "<!-- /http-json-examples -->";
        var start = text.IndexOf(begin, StringComparison.Ordinal);
        var stop = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(start >= 0 && stop > start, $"{ExamplesFile} has no http-json-examples block");
        var commands = new List<string>();
        var current = "";
        foreach (var raw in text[(start + begin.Length)..stop].Split('\n'))
        {
            var line = raw.TrimEnd();
            if (current.Length == 0 && (line.Length == 0 || line.StartsWith('#') || line.StartsWith("```", StringComparison.Ordinal))) continue;
            // Kept as written: bash takes a backslash-newline as a continuation, and a quoted body may span lines.
            current = current.Length == 0 ? line : $"{current}\n{line}";
            if (line.EndsWith('\\') || !QuotesClosed(current)) continue;
            commands.Add(current.Trim());
            current = "";
        }

        Assert.Contains(commands, c => c.StartsWith("curl ", StringComparison.Ordinal));
        return commands;
    }

    /// <summary>Whether every single-quoted string of a shell line is closed (a JSON body may span lines).</summary>
    private static bool QuotesClosed(string line) => line.Count(c => c == '\'') % 2 == 0;

    /// <summary>Runs a command with bash, as a user would paste it, with the document's variables set to this server.</summary>
    private async Task<(string Output, string Command)> RunAsync(string command)
    {
        var result = await DocumentedCommands.RunAsync(command,
            new Dictionary<string, string> { ["PORTHISTORY_HTTP"] = Server.HttpAddress, ["PORTHISTORY_TOKEN"] = Server.AdminToken });
        Assert.True(result.ExitCode == 0 && !result.TimedOut, $"{command}\nexited {result.ExitCode}: {result.Errors}\n{Server.Problems}");
        return (result.Output, command);
    }
}
