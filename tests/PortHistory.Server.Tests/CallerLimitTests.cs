using Grpc.Core;
using Grpc.Health.V1;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>The per-caller bounds: streams, calls in flight, request sizes, listing time, health probes, the token file.</summary>
[Collection(OwnServerCollection.Name)]
public sealed class CallerLimitTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private Task<SightingsServer> ServerAsync() => resources.SharedAsync("limits", () => SightingsServer.StartAsync(fixture.Postgres, "limits",
        new Dictionary<string, string>
        {
            ["PortHistory__Sightings__MaxBatchesPerStream"] = "3",
            ["PortHistory__RateLimit__ConcurrentCallsPerToken"] = "2",
            ["PortHistory__Queries__MaxDuration"] = "00:00:00.001",
        }));

    [Fact]
    public async Task A_report_stream_takes_a_bounded_number_of_batches_and_records_those()
    {
        var server = await ServerAsync();
        using var call = new Sightings.SightingsClient(server.Agent).Report();
        try
        {
            for (var i = 0; i < 4; i++) await call.RequestStream.WriteAsync(Batch([Sighting($"stream-{i}", 41001, Transport.Tcp, "streamd")]));
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // Refused while writing: the status comes with the response.
        }

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("at most 3 batches", refused.Status.Detail);
        var observed = new Contracts.V1.Observations.ObservationsClient(server.Admin);
        var recorded = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 41001 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings >= 3);
        Assert.Equal(3ul, recorded.Observed.Transports[0].Sightings);
    }

    [Fact]
    public async Task A_token_at_its_limit_of_calls_in_flight_is_refused_while_other_tokens_go_on()
    {
        var server = await ServerAsync();
        var agent = new Sightings.SightingsClient(server.Agent);
        // Two open streams hold the token's two permits.
        using var first = agent.Report();
        using var second = agent.Report();
        await first.RequestStream.WriteAsync(Batch([Sighting("held-1", 41002, Transport.Tcp, "held")]));
        await second.RequestStream.WriteAsync(Batch([Sighting("held-2", 41002, Transport.Tcp, "held")]));
        // Both streams are being served once the server has recorded the batch each one sent.
        var observed = new Contracts.V1.Observations.ObservationsClient(server.Admin);
        await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 41002 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings >= 2);

        Status third;
        try
        {
            await agent.ReportBatchAsync(Batch([Sighting("third", 41002, Transport.Tcp, "held")]));
            third = Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            third = e.Status;
        }

        Assert.True(third.StatusCode == StatusCode.ResourceExhausted,
            $"third call: {third}; the streams: {first.ResponseAsync.Status} / {second.ResponseAsync.Status}");
        Assert.Contains("too many calls in flight", third.Detail);

        // Another token is not held up.
        Assert.Equal(22u, (await new PortRegistry.PortRegistryClient(server.Reader).GetPortAsync(new GetPortRequest { Port = 22 })).Port);

        await first.RequestStream.CompleteAsync();
        await second.RequestStream.CompleteAsync();
        Assert.Single((await first).Batches);
        Assert.Single((await second).Batches);
        Assert.Equal(1u, (await agent.ReportBatchAsync(Batch([Sighting("after", 41002, Transport.Tcp, "held")]))).Accepted);
    }

    [Fact]
    public async Task A_listing_that_runs_past_the_servers_limit_ends_with_deadline_exceeded()
    {
        var server = await ServerAsync();
        var registry = new PortRegistry.PortRegistryClient(server.Reader);
        var refused = await RegistryServerFixture.FailsAsync(async () =>
        {
            using var call = registry.ListPorts(new ListPortsRequest());
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });
        Assert.Equal(StatusCode.DeadlineExceeded, refused.StatusCode);
        Assert.Contains("longer than the server allows", refused.Status.Detail);
    }

    [Fact]
    public async Task An_unauthenticated_caller_cannot_send_a_large_request()
    {
        var server = await ServerAsync();
        var registry = new PortRegistry.PortRegistryClient(server.Server.AnonymousChannel);
        var large = await RegistryServerFixture.FailsAsync(() => registry.FindServiceAsync(new FindServiceRequest { Name = new string('x', 1024 * 1024) }).ResponseAsync);
        var small = await RegistryServerFixture.FailsAsync(() => registry.FindServiceAsync(new FindServiceRequest { Name = "ssh" }).ResponseAsync);

        // Both refused for want of a token, before anything reads them (the large one's size is never looked at).
        Assert.Equal(StatusCode.Unauthenticated, large.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, small.StatusCode);
    }

    [Theory]
    [InlineData("grpc")]
    [InlineData("json")]
    public async Task A_large_request_with_a_bad_token_is_refused_before_its_body_is_read(string route)
    {
        var server = await ServerAsync();
        // Over HTTP/2 the server grants each stream a 4 MiB window: a body read whole (8 MiB batch, 12 MiB JSON) is
        // sent whole before the answer comes; a body never read is cut off at the window.
        var size = route == "grpc" ? 8 * 1024 * 1024 - 64 : 12 * 1024 * 1024;
        using var client = new HttpClient(new SocketsHttpHandler());
        var body = new CountingContent(size, route == "grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Server.Address + (route == "grpc" ? "/porthistory.v1.Sightings/ReportBatch" : "/v1/sightings:batch"))
        {
            Content = body,
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(route == "grpc" ? "application/grpc" : "application/json");
        request.Headers.TryAddWithoutValidation("authorization", "Bearer ph_" + new string('A', 43));
        if (route == "grpc") request.Headers.TryAddWithoutValidation("te", "trailers");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var sentWhenAnswered = body.Sent;

        if (route == "grpc") Assert.Equal("16", response.Headers.GetValues("grpc-status").Single());
        else Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(sentWhenAnswered < size / 2 + 1024 * 1024, $"{sentWhenAnswered} of {size} bytes were sent before the refusal");
    }

    [Fact]
    public async Task Connections_beyond_the_limit_per_address_are_closed_and_one_closing_lets_another_in()
    {
        // The process's own health channel holds one connection; three more fill the limit of four.
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("connections"),
            new Dictionary<string, string> { ["PortHistory__Connections__PerAddress"] = "4" });
        await server.StartAsync();
        var channels = new List<Grpc.Net.Client.GrpcChannel>();
        async Task<StatusCode> ProbeAsync(Grpc.Net.Client.GrpcChannel channel)
        {
            try
            {
                await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }

        Grpc.Net.Client.GrpcChannel Open()
        {
            var channel = Grpc.Net.Client.GrpcChannel.ForAddress(server.Address,
                new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = new SocketsHttpHandler(), DisposeHttpClient = true });
            channels.Add(channel);
            return channel;
        }

        try
        {
            for (var i = 0; i < 3; i++) Assert.Equal(StatusCode.OK, await ProbeAsync(Open()));
            Assert.Equal(StatusCode.Unavailable, await ProbeAsync(Open()));

            channels[0].Dispose();
            await Eventually.Async(() => ProbeAsync(Open()), status => status == StatusCode.OK, TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var channel in channels) channel.Dispose();
        }
    }

    /// <summary>A request body of a given size, written in 64 KiB pieces, counting what was handed to the connection.</summary>
    private sealed class CountingContent(int size, bool grpcFrame) : HttpContent
    {
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)' ');
            var remaining = size;
            if (grpcFrame)
            {
                var header = new byte[5];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), size - 5);
                await stream.WriteAsync(header);
                remaining -= 5;
                Interlocked.Add(ref _sent, 5);
            }

            while (remaining > 0)
            {
                var piece = Math.Min(remaining, chunk.Length);
                await stream.WriteAsync(chunk.AsMemory(0, piece));
                remaining -= piece;
                Interlocked.Add(ref _sent, piece);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = size;
            return true;
        }
    }

    [Fact]
    public async Task Health_probes_do_not_reach_the_database_per_call_and_the_token_file_is_private()
    {
        // A server of its own with nothing to do: what PostgreSQL counts is then the probes and a few heartbeats.
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("health"));
        await server.StartAsync();
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("health"));
        async Task<long> TransactionsAsync()
        {
            await using var command = database.CreateCommand("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'health'");
            return (long)(await command.ExecuteScalarAsync())!;
        }

        var health = new Health.HealthClient(server.AnonymousChannel);
        var before = await TransactionsAsync();
        for (var i = 0; i < 500; i++) Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        var after = await TransactionsAsync();

        // One database check per second at most, however many probes: far fewer than 500.
        Assert.True(after - before < 100, $"{after - before} transactions during 500 health checks");
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.AdminTokenFile));
    }
}
