using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using PortHistory.Contracts.V1;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>Bad sightings are rejected with their field and reason; the good ones of the same batch are kept.</summary>
[Collection(ServerCollection.Name)]
public sealed class SightingInputTests(RegistryServerFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private Task<SightingsServer> ServerAsync() => resources.SharedAsync("verdicts-access", () => SightingsServer.StartAsync(fixture.Postgres, "access"));

    [Fact]
    public async Task A_batch_with_bad_items_keeps_the_good_ones_and_names_each_bad_field()
    {
        var server = await ServerAsync();
        var client = new Sightings.SightingsClient(server.Agent);
        var good = Sighting("input-host", 30001, Transport.Tcp, "good");
        var bad = new (string Field, Sighting Sighting)[]
        {
            ("port", Without(good, s => s.ClearPort())),
            ("port", With(good, s => s.Port = 70000)),
            ("transport", With(good, s => s.Transport = Transport.Unspecified)),
            ("transport", With(good, s => s.Transport = (Transport)9)),
            ("host_ref", With(good, s => s.HostRef = "")),
            ("host_ref", With(good, s => s.HostRef = new string('h', 129))),
            ("observed_at", With(good, s => s.ObservedAt = null)),
            ("observed_at", With(good, s => s.ObservedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(2)))),
            ("observed_at", With(good, s => s.ObservedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-400)))),
            ("process_name", With(good, s => { s.ProcessName = ""; s.Executable = ""; })),
            ("process_name", With(good, s => s.ProcessName = new string('p', 257))),
            ("local_address", With(good, s => s.LocalAddress = "not-an-address")),
            ("program", With(good, s => s.Program = "/opt/kafka/libs/kafka_2.13-3.6.0.jar")),
            ("systemd_unit", With(good, s => s.SystemdUnit = "rpc-statd.service --user")),
            ("bind_scope", With(good, s => { s.LocalAddress = ""; s.BindScope = BindScope.Unspecified; })),
            ("sightings", good.Clone()),
        };
        var batch = Batch([good, .. bad.Select(b => b.Sighting), Sighting("input-host", 30002, Transport.Udp, "also-good", localAddress: "127.0.0.1")]);

        var result = await client.ReportBatchAsync(batch);

        Assert.Equal(2u, result.Accepted);
        Assert.Equal("", result.Error);
        Assert.Equal(bad.Select((b, i) => (Index: (uint)(i + 1), b.Field)), result.Rejected.Select(r => (r.Index, r.Field)));
        Assert.All(result.Rejected, r => Assert.NotEmpty(r.Reason));
        Assert.Contains("duplicate of sighting 0", result.Rejected[^1].Reason);

        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var loopback = await SightingsServer.EventuallyAsync(
            () => observed.GetObservedAsync(new GetObservedRequest { Port = 30002 }).ResponseAsync, r => r.Observed.Transports.Count == 1);
        Assert.Equal(1ul, loopback.Observed.Transports[0].Processes[0].LoopbackSightings);
    }

    [Fact]
    public async Task A_program_and_unit_reach_the_port_as_sent_and_as_read_back_from_the_journal()
    {
        var server = await ServerAsync();
        var client = new Sightings.SightingsClient(server.Agent);
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var sent = With(Sighting("identity-host", 30010, Transport.Tcp, "java", "/usr/lib/jvm/bin/java"), s =>
        {
            s.Program = "org.apache.catalina.startup.Bootstrap";
            s.SystemdUnit = "tomcat10.service";
        });

        Assert.Equal(1u, (await client.ReportBatchAsync(Batch([sent]))).Accepted);

        var live = await SightingsServer.EventuallyAsync(
            () => observed.GetObservedAsync(new GetObservedRequest { Port = 30010 }).ResponseAsync, r => r.Observed.Transports.Count == 1);
        var process = Assert.Single(live.Observed.Transports[0].Processes);
        Assert.Equal(("java", "org.apache.catalina.startup.Bootstrap", "tomcat10.service"), (process.ProcessName, process.Program, process.SystemdUnit));

        // A row only in the journal, of a writer that is gone: the sweeper tells the port, whose grain reads the row back.
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("access"));
        await using (var command = database.CreateCommand("""
            WITH w AS (INSERT INTO sighting_writers (heartbeat_at) VALUES (now() - interval '1 day') RETURNING writer_id)
            INSERT INTO sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                                          bind_scope, socket_state, process, executable, pid, username, privileged, container_id,
                                          network_namespace, batch_id, program, systemd_unit)
            SELECT w.writer_id, 1, 30011, 1, 4242, 'journal-host', now(), 1, '0.0.0.0', 1, 1, 'java', '/usr/bin/java', 1, 'kafka', true, '', '',
                   gen_random_uuid(), 'kafka.Kafka', 'kafka.service'
            FROM w
            """))
        {
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var caughtUp = await SightingsServer.EventuallyAsync(
            () => observed.GetObservedAsync(new GetObservedRequest { Port = 30011 }).ResponseAsync, r => r.Observed.Transports.Count == 1);
        var read = Assert.Single(caughtUp.Observed.Transports[0].Processes);
        Assert.Equal(("java", "kafka.Kafka", "kafka.service"), (read.ProcessName, read.Program, read.SystemdUnit));
    }

    [Fact]
    public async Task Sightings_let_go_under_overload_still_reach_a_grain_that_stays_active()
    {
        var server = await resources.SharedAsync("overflow", () => SightingsServer.StartAsync(fixture.Postgres, "overflow",
            new Dictionary<string, string> { ["PortHistory__Sightings__MaxPendingDeliveryBytes"] = "1000" }));
        var client = new Sightings.SightingsClient(server.Agent);
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        Task<GetObservedResponse> ReadAsync() => observed.GetObservedAsync(new GetObservedRequest { Port = 30100, Transport = Transport.Tcp }).ResponseAsync;

        // The port's grain is active and has applied a first sighting.
        Assert.Equal(1u, (await client.ReportBatchAsync(Batch([Sighting("overflow-0", 30100, Transport.Tcp, "daemon")]))).Accepted);
        await SightingsServer.EventuallyAsync(ReadAsync, r => r.Observed.Transports.Count == 1);

        // Thirty more in one batch: more than may wait in memory, so the dispatcher lets them go before delivering.
        var more = Enumerable.Range(1, 30).Select(i => Sighting($"overflow-{i}", 30100, Transport.Tcp, "daemon"));
        Assert.Equal(30u, (await client.ReportBatchAsync(Batch(more))).Accepted);

        var all = await SightingsServer.EventuallyAsync(ReadAsync, r => r.Observed.Transports[0].Sightings >= 31);
        Assert.Equal((31ul, 31ul), (all.Observed.Transports[0].Sightings, all.Observed.Transports[0].DistinctHosts));
    }

    [Fact]
    public async Task A_batch_is_refused_whole_for_a_bad_id_or_too_many_sightings_and_a_resent_batch_counts_once()
    {
        var server = await ServerAsync();
        var client = new Sightings.SightingsClient(server.Agent);
        var noId = Batch([Sighting("input-host", 30003, Transport.Tcp, "x")]);
        noId.BatchId = "not-a-uuid";
        var refused = await client.ReportBatchAsync(noId);
        Assert.Equal((0u, true), (refused.Accepted, refused.Error.StartsWith("batch_id: ", StringComparison.Ordinal)));

        var huge = await client.ReportBatchAsync(Batch(Enumerable.Range(0, 5001).Select(i => Sighting($"h{i}", 30003, Transport.Tcp, "x"))));
        Assert.Equal((0u, true), (huge.Accepted, huge.Error.StartsWith("sightings: 5001", StringComparison.Ordinal)));

        var batch = Batch(Enumerable.Range(0, 7).Select(i => Sighting($"resend-{i}", 30004, Transport.Tcp, "resent")));
        var first = await client.ReportBatchAsync(batch);
        var again = await client.ReportBatchAsync(batch);
        Assert.Equal((7u, false), (first.Accepted, first.Duplicate));
        Assert.Equal((7u, true), (again.Accepted, again.Duplicate));

        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var counted = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 30004 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1);
        Assert.Equal(7ul, counted.Observed.Transports[0].Sightings);
        Assert.Equal(7ul, counted.Observed.Transports[0].DistinctHosts);
    }

    [Fact]
    public async Task A_stream_of_batches_gets_one_result_per_batch()
    {
        var server = await ServerAsync();
        using var call = new Sightings.SightingsClient(server.Agent).Report();
        await call.RequestStream.WriteAsync(Batch([Sighting("stream-host", 30005, Transport.Tcp, "a")]));
        var broken = Batch([Sighting("stream-host", 30005, Transport.Tcp, "b")]);
        broken.BatchId = "x";
        await call.RequestStream.WriteAsync(broken);
        await call.RequestStream.WriteAsync(Batch([Sighting("stream-host", 30005, Transport.Tcp, "c"), Sighting("stream-host", 30005, Transport.Tcp, "d")]));
        await call.RequestStream.CompleteAsync();

        var response = await call.ResponseAsync;

        Assert.Equal([1u, 0u, 2u], response.Batches.Select(b => b.Accepted));
        Assert.StartsWith("batch_id: ", response.Batches[1].Error);
    }

    [Fact]
    public async Task A_malformed_message_fails_that_call_only()
    {
        var server = await ServerAsync();
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "porthistory.v1.Sightings", "ReportBatch",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var invoker = server.Agent.CreateCallInvoker();

        var error = await RegistryServerFixture.FailsAsync(() => invoker.AsyncUnaryCall(raw, null, new CallOptions(), [0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01]).ResponseAsync);

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        Assert.Equal(1u, (await new Sightings.SightingsClient(server.Agent).ReportBatchAsync(Batch([Sighting("after-garbage", 30006, Transport.Tcp, "ok")]))).Accepted);
    }

    private static Sighting With(Sighting template, Action<Sighting> change)
    {
        var copy = template.Clone();
        change(copy);
        return copy;
    }

    private static Sighting Without(Sighting template, Action<Sighting> change) => With(template, change);
}
