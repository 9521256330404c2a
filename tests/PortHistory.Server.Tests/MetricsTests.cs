using System.Net;
using Grpc.Core;
using PortHistory.Contracts.V1;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// The Prometheus scrape endpoint, read as Prometheus reads it (cleartext HTTP/1.1, apart from the gRPC port): what
/// an agent and a reader do moves PortHistory's figures by exactly that much, and the platform's meters are there.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class MetricsTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    /// <summary>PostgreSQL here trusts every local connection: the password is never checked, only looked for in the figures.</summary>
    private const string Password = "metrics-password-b7f3";

    private Task<SightingsServer> ServerAsync() => resources.SharedAsync("metrics", () => SightingsServer.StartAsync(fixture.Postgres, "metrics",
        new Dictionary<string, string> { ["ConnectionStrings__PortHistory"] = $"{fixture.Postgres.ConnectionString("metrics")};Password={Password}" }));

    [Fact]
    public async Task Ingest_and_reads_move_the_scraped_figures_by_exactly_what_was_done()
    {
        var server = await ServerAsync();
        using var http = PrometheusScrape.Client(server.Server);
        // An import by this process, for the import figures (its database was copied with the newest edition in it).
        await Testing.EditionUpload.ImportAsync(server.Admin, Testing.RegistryData.PathOf("rfc0990.txt"));
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var sizes = Enumerable.Range(0, random.Next(2, 5)).Select(_ => random.Next(1, 8)).ToArray();
        var reads = random.Next(3, 9);
        var context = $"seed {seed}, batches of {string.Join(", ", sizes)}, {reads} reads";
        var before = await PrometheusScrape.ReadAsync(http);

        var agent = new Sightings.SightingsClient(server.Agent);
        var batches = sizes.Select((size, b) => Batch(Enumerable.Range(0, size).Select(i => Sighting($"metrics-{b}-{i}", (uint)(31000 + b), Transport.Tcp, "metricsd")))).ToList();
        // One sighting the server rejects, in a batch whose good ones are recorded.
        batches[0].Sightings.Add(Sighting("metrics-bad", 70000, Transport.Tcp, "metricsd"));
        foreach (var batch in batches) Assert.False((await agent.ReportBatchAsync(batch)).Duplicate);
        var resent = await agent.ReportBatchAsync(batches[^1]);
        Assert.True(resent.Duplicate);

        var reader = new PortRegistry.PortRegistryClient(server.Reader);
        for (var i = 0; i < reads; i++) await reader.GetPortAsync(new GetPortRequest { Port = (uint)(i % 2 == 0 ? 22 : 443) });
        // A call with a token the server does not know: refused, and counted with its status.
        using var stranger = server.Server.ChannelWith(() => "ph_unknown_token");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new PortRegistry.PortRegistryClient(stranger).GetPortAsync(new GetPortRequest { Port = 22 }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        var accepted = sizes.Sum();
        // Counters are updated before each call is answered; the exporter may serve a scrape it cached just before.
        var after = await Testing.Eventually.Async(() => PrometheusScrape.ReadAsync(http), s => PrometheusScrape.Delta(s, before, "porthistory_sightings_accepted_total") >= accepted
            && PrometheusScrape.Delta(s, before, "porthistory_getport_answers_total") >= reads
            && PrometheusScrape.Delta(s, before, "porthistory_rpc_calls_total", ("rpc_method", "GetPort")) >= reads + 1, TimeSpan.FromSeconds(30));

        Assert.True(accepted == PrometheusScrape.Delta(after, before, "porthistory_sightings_accepted_total"), context);
        Assert.True(1 == PrometheusScrape.Delta(after, before, "porthistory_sightings_rejected_total"), context);
        Assert.True(sizes.Length == PrometheusScrape.Delta(after, before, "porthistory_sightings_batches_total", ("outcome", "recorded")), context);
        Assert.True(1 == PrometheusScrape.Delta(after, before, "porthistory_sightings_batches_total", ("outcome", "duplicate")), context);
        // Every batch that reached the journal was acknowledged, the duplicate included.
        Assert.True(sizes.Length + 1 == PrometheusScrape.Delta(after, before, "porthistory_sightings_acknowledgement_duration_seconds_count"), context);
        Assert.True(reads == PrometheusScrape.Delta(after, before, "porthistory_getport_answers_total"), context);
        Assert.All(after.Where(s => s.Name == "porthistory_getport_answers_total"), s => Assert.Contains(s.Label("source"), new[] { "board", "grain" }));
        // Only answers that took a grain call are timed.
        Assert.True(PrometheusScrape.Delta(after, before, "porthistory_getport_answers_total", ("source", "grain")) == PrometheusScrape.Delta(after, before, "porthistory_getport_duration_seconds_count"), context);
        // Each call's token was checked once, from the cache or from PostgreSQL.
        Assert.True(batches.Count + 1 + reads + 1 == PrometheusScrape.Delta(after, before, "porthistory_tokens_lookups_total"), context);
        // Every call counted once, by method and status code.
        (string, string) getPort = ("rpc_method", "GetPort"), ok = ("rpc_grpc_status_code", "0");
        Assert.True(reads == PrometheusScrape.Delta(after, before, "porthistory_rpc_calls_total", getPort, ok, ("rpc_service", "porthistory.v1.PortRegistry")), context);
        Assert.True(1 == PrometheusScrape.Delta(after, before, "porthistory_rpc_calls_total", getPort, ("rpc_grpc_status_code", "16")), context);
        Assert.True(batches.Count + 1 == PrometheusScrape.Delta(after, before, "porthistory_rpc_calls_total", ("rpc_method", "ReportBatch"), ok), context);

        // Delivered to the grains, nothing is left undelivered.
        var settled = await Testing.Eventually.Async(() => PrometheusScrape.ReadAsync(http), s => PrometheusScrape.Sum(s, "porthistory_journal_undelivered") == 0, TimeSpan.FromSeconds(30));
        Assert.Equal(0, PrometheusScrape.Sum(settled, "porthistory_journal_undelivered_age_seconds"));

        // The platform's meters: ASP.NET Core and Kestrel, Orleans (port grains), Npgsql, runtime; without the per-request
        // instruments left out by default (the request histogram, requests in flight).
        Assert.Contains(after, s => s.Name == "kestrel_active_connections");
        Assert.DoesNotContain(after, s => s.Name.StartsWith("http_server_", StringComparison.Ordinal));
        Assert.Contains(after, s => s.Name == "orleans_grains" && s.Label("grain_type") == "port" && s.Value > 0);
        Assert.Contains(after, s => s.Name == "db_client_connection_count" && s.Label("db_client_connection_pool_name") == "porthistory");
        Assert.DoesNotContain(after, s => s.Labels.Values.Any(v => v.Contains(Password, StringComparison.Ordinal)));
        Assert.Contains(after, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
        // The import above, committed.
        Assert.Contains(after, s => s.Name == "porthistory_import_duration_seconds_count" && s.Label("outcome") == "committed" && s.Value >= 1);
        Assert.Equal((double)ImportStage.Committed, PrometheusScrape.Sum(after, "porthistory_import_stage"));
    }

    [Fact]
    public async Task The_scrape_is_served_only_on_its_own_port_and_nothing_else_is_served_there()
    {
        var server = await ServerAsync();
        using var http = PrometheusScrape.Client(server.Server);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/porthistory.v1.PortRegistry/GetPort")).StatusCode);
        // The gRPC port (HTTP/2 only, cleartext) has no /metrics: a scraper pointed at it gets no figures.
        using var grpcPort = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var onGrpcPort = await grpcPort.GetAsync(new Uri(new Uri(server.Server.Address), "/metrics"));
        Assert.NotEqual(HttpStatusCode.OK, onGrpcPort.StatusCode);
        Assert.DoesNotContain("porthistory_", await onGrpcPort.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_metrics_off_the_scrape_port_serves_nothing_and_the_gateway_still_answers()
    {
        await using var server = new Testing.ServerProcess(fixture.Postgres.ConnectionString("metrics-off"),
            new Dictionary<string, string> { ["PortHistory__Metrics__Enabled"] = "false" });
        await server.StartAsync();
        using var http = PrometheusScrape.Client(server);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/porthistory.v1.PortRegistry/GetPort")).StatusCode);
        var editions = await new PortRegistry.PortRegistryClient(server.Channel).ListEditionsAsync(new ListEditionsRequest());
        Assert.Empty(editions.Editions);
    }
}
