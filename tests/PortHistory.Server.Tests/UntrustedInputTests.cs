// Over 250 lines: the cases share one server (starting it is most of their cost); another class would start another.
using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// What a buggy or compromised agent sends cannot break a port, grow it without bound, or fail other agents' batches;
/// rows that reach the journal by other ways are quarantined instead of stopping the port.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class UntrustedInputTests(RegistryServerFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private Task<SightingsServer> ServerAsync() => resources.SharedAsync("untrusted", () => SightingsServer.StartAsync(fixture.Postgres, "untrusted"));

    [Fact]
    public async Task Every_enum_field_with_an_unknown_number_is_refused_by_index_and_field_and_the_port_answers_before_and_after_a_restart()
    {
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "enums");
        var client = new Sightings.SightingsClient(server.Agent);
        var good = Sighting("enum-host", 40001, Transport.Tcp, "good");
        var bad = new List<(string Field, Sighting Sighting)>();
        foreach (var number in new[] { -1, 5, 99, int.MaxValue, int.MinValue })
        {
            bad.Add(("transport", With(good, s => s.Transport = (Transport)number)));
            bad.Add(("address_family", With(good, s => s.AddressFamily = (AddressFamily)(number == 5 ? 3 : number))));
            bad.Add(("bind_scope", With(good, s => s.BindScope = (BindScope)(number == 5 ? 4 : number))));
            bad.Add(("state", With(good, s => s.State = (SocketState)(number == 5 ? 3 : number))));
        }

        var result = await client.ReportBatchAsync(Batch([good, .. bad.Select(b => b.Sighting)]));

        Assert.Equal(1u, result.Accepted);
        Assert.Equal(bad.Select((b, i) => ((uint)(i + 1), b.Field)), result.Rejected.Select(r => (r.Index, r.Field)));
        var reader = new PortRegistry.PortRegistryClient(server.Admin);
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var before = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 40001 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1);
        Assert.Equal(1ul, before.Observed.Transports[0].Sightings);

        await server.Server.StopAsync();
        await server.Server.StartAsync();

        Assert.Equal(40001u, (await reader.GetPortAsync(new GetPortRequest { Port = 40001 })).Port);
        var after = await observed.GetObservedAsync(new GetObservedRequest { Port = 40001 });
        Assert.Equal((1ul, 0ul), (after.Observed.Transports[0].Sightings, after.Observed.QuarantinedSightings));
    }

    [Fact]
    public async Task Text_with_controls_bidi_overrides_or_bad_nanos_is_refused_naming_the_field()
    {
        var server = await ServerAsync();
        var client = new Sightings.SightingsClient(server.Agent);
        var good = Sighting("text-host", 40002, Transport.Udp, "named");
        var bad = new (string Field, Sighting Sighting)[]
        {
            ("process_name", With(good, s => s.ProcessName = "sshd\u202Egpj.exe")),
            ("process_name", With(good, s => s.ProcessName = "nul\0here")),
            ("executable", With(good, s => s.Executable = "/usr/bin/\u001b[31mred")),
            ("host_ref", With(good, s => s.HostRef = "host\u2066x")),
            ("user", With(good, s => s.User = "ro\u0007ot")),
            ("container_id", With(good, s => s.ContainerId = "c\u0085d")),
            ("network_namespace", With(good, s => s.NetworkNamespace = "net\u200Fns")),
            ("observed_at", With(good, s => s.ObservedAt = new Timestamp { Seconds = s.ObservedAt.Seconds, Nanos = -1 })),
            ("observed_at", With(good, s => s.ObservedAt = new Timestamp { Seconds = s.ObservedAt.Seconds, Nanos = 1_000_000_000 })),
            ("observed_at", With(good, s => s.ObservedAt = new Timestamp { Seconds = long.MaxValue })),
            ("pid", With(good, s => s.Pid = uint.MaxValue)),
        };

        var result = await client.ReportBatchAsync(Batch([good, .. bad.Select(b => b.Sighting)]));

        Assert.Equal(1u, result.Accepted);
        Assert.Equal(bad.Select((b, i) => ((uint)(i + 1), b.Field)), result.Rejected.Select(r => (r.Index, r.Field)));
    }

    [Fact]
    public async Task A_journal_row_the_grain_cannot_apply_is_quarantined_and_the_port_answers_before_and_after_a_restart()
    {
        // A short writer timeout: the forged rows' writer soon counts as gone, and its rows are handed to the (active) grain.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "quarantine", new Dictionary<string, string>
        {
            ["PortHistory__Sightings__WriterTimeout"] = "00:00:04",
            ["PortHistory__Sightings__OrphanSweepInterval"] = "00:00:01",
        });
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("quarantine"));
        // Rows that bypassed validation (an older server, a hand-made row): an unknown transport and an unknown bind scope.
        await using (var command = database.CreateCommand("""
            WITH w AS (INSERT INTO sighting_writers DEFAULT VALUES RETURNING writer_id)
            INSERT INTO sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                                          bind_scope, socket_state, process, executable, pid, username, privileged, container_id,
                                          network_namespace, batch_id)
            SELECT w.writer_id, s.seq, 40003, s.transport, 42, 'forged', now(), 1, '0.0.0.0', s.scope, 1, 'evil', '/tmp/evil', 1, 'root', true, '', '',
                   gen_random_uuid()
            FROM w, (VALUES (1, -1::smallint, 1::smallint), (2, 300::smallint, 1::smallint), (3, 1::smallint, 99::smallint)) AS s(seq, transport, scope)
            """))
        {
            Assert.Equal(3, await command.ExecuteNonQueryAsync());
        }

        var agent = new Sightings.SightingsClient(server.Agent);
        Assert.Equal(1u, (await agent.ReportBatchAsync(Batch([Sighting("quarantine-host", 40003, Transport.Tcp, "real")]))).Accepted);

        var registry = new PortRegistry.PortRegistryClient(server.Admin);
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var reader = new ObservationsService.ObservationsClient(server.Reader);
        Assert.Equal(40003u, (await registry.GetPortAsync(new GetPortRequest { Port = 40003 })).Port);
        var first = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 40003 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.QuarantinedSightings > 0);
        Assert.Equal((3ul, 1ul), (first.Observed.QuarantinedSightings, first.Observed.Transports[0].Sightings));
        Assert.Equal(3, first.Observed.QuarantineReasons.Count);
        Assert.Contains(first.Observed.QuarantineReasons, r => r.Contains("unknown transport -1", StringComparison.Ordinal));
        Assert.Contains(first.Observed.QuarantineReasons, r => r.Contains("unknown bind scope 99", StringComparison.Ordinal));
        // Readers see the port, not the quarantine.
        Assert.Equal(0ul, (await reader.GetObservedAsync(new GetObservedRequest { Port = 40003 })).Observed.QuarantinedSightings);

        await server.Server.KillAsync();
        await server.Server.StartAsync();

        Assert.Equal(40003u, (await registry.GetPortAsync(new GetPortRequest { Port = 40003 })).Port);
        var again = await observed.GetObservedAsync(new GetObservedRequest { Port = 40003 });
        Assert.Equal((3ul, 1ul), (again.Observed.QuarantinedSightings, again.Observed.Transports[0].Sightings));
    }

    [Fact]
    public async Task Out_of_range_values_from_one_agent_never_fail_another_agents_batches()
    {
        var server = await ServerAsync();
        var access = new AccessAdmin.AccessAdminClient(server.Admin);
        var hostile = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "hostile agent", Role = Role.Agent })).Token;
        using var hostileChannel = server.Server.ChannelWith(() => hostile);
        var honest = new Sightings.SightingsClient(server.Agent);
        var attacker = new Sightings.SightingsClient(hostileChannel);
        const int rounds = 20, perBatch = 50;

        var honestResults = Enumerable.Range(0, rounds).Select(round => honest.ReportBatchAsync(Batch(
            Enumerable.Range(0, perBatch).Select(i => Sighting($"honest-{i}", 40100, Transport.Tcp, "honestd", observedAt: DateTime.UtcNow.AddSeconds(-round - 1))))).ResponseAsync).ToList();
        // Values beyond every column's range: a smallint transport or scope, an integer pid, a port past 65535.
        var hostileResults = Enumerable.Range(0, rounds).Select(round => attacker.ReportBatchAsync(Batch(
        [
            With(Sighting($"hostile-{round}", 40100, Transport.Tcp, "x"), s => s.Transport = (Transport)70000),
            With(Sighting($"hostile-{round}", 40100, Transport.Tcp, "x"), s => s.BindScope = (BindScope)int.MaxValue),
            With(Sighting($"hostile-{round}", 40100, Transport.Tcp, "x"), s => s.Pid = uint.MaxValue),
            With(Sighting($"hostile-{round}", 40100, Transport.Tcp, "x"), s => s.Port = 70000),
        ])).ResponseAsync).ToList();

        var honestDone = await Task.WhenAll(honestResults);
        var hostileDone = await Task.WhenAll(hostileResults);

        Assert.All(honestDone, r => Assert.Equal(((uint)perBatch, 0), (r.Accepted, r.Rejected.Count)));
        Assert.All(hostileDone, r => Assert.Equal((0u, 4), (r.Accepted, r.Rejected.Count)));
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var all = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 40100 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings >= rounds * perBatch);
        Assert.Equal(((ulong)rounds * perBatch, (ulong)perBatch), (all.Observed.Transports[0].Sightings, all.Observed.Transports[0].DistinctHosts));
    }

    [Fact]
    public async Task A_flood_of_distinct_hosts_and_process_names_at_one_port_stays_within_the_documented_bound()
    {
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "flood",
            new Dictionary<string, string> { ["PortHistory__RateLimit__SightingsPerSecond"] = "1000000", ["PortHistory__RateLimit__Burst"] = "1000000" });
        var client = new Sightings.SightingsClient(server.Agent);
        // 5,000 sightings, each of a host of its own: 4,500 made-up processes of 4 KB each pass every bound below by far.
        const int total = 5_000, perBatch = 1000;
        var longExecutable = "/opt/" + new string('e', 4000);
        // Every 10th sighting is the port's real daemon (on 500 hosts); the rest are one-off names a hostile agent makes up.
        for (var start = 0; start < total; start += perBatch)
        {
            var batch = Batch(Enumerable.Range(start, perBatch).Select(i => i % 10 == 0
                ? Sighting($"flood-host-{i}", 40200, Transport.Udp, "rpc.statd")
                : Sighting($"flood-host-{i}", 40200, Transport.Udp, $"junk-{i}-" + new string('p', 200), executable: longExecutable + i)));
            Assert.Equal((uint)perBatch, (await client.ReportBatchAsync(batch)).Accepted);
        }

        var observed = new ObservationsService.ObservationsClient(server.Admin);
        var answer = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 40200 }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings == total, TimeSpan.FromSeconds(120));

        var udp = answer.Observed.Transports[0];
        Assert.True(answer.CalculateSize() < 64 * 1024, $"the admin answer is {answer.CalculateSize()} bytes");
        Assert.InRange(udp.Processes.Count, 1, 32);
        // Nothing is lost from the totals: listed processes and "other" add up to every sighting.
        Assert.Equal((ulong)total, udp.Processes.Aggregate(0ul, (sum, p) => sum + p.Sightings) + (udp.Other?.Sightings ?? 0));
        Assert.True(udp.OtherProcesses >= total * 9 / 10 - 32, $"other adds up {udp.OtherProcesses} processes");
        // The daemon on a tenth of the sightings stays listed; the distinct hosts are an estimate within 5%.
        Assert.Equal((ulong)total / 10, udp.Processes.Single(p => p.ProcessName == "rpc.statd").Sightings);
        Assert.InRange((double)udp.DistinctHosts, total * 0.95, total * 1.05);
        Assert.InRange((double)udp.Processes.Single(p => p.ProcessName == "rpc.statd").DistinctHosts, total / 10 * 0.93, total / 10 * 1.07);

        var port = await new PortRegistry.PortRegistryClient(server.Reader).GetPortAsync(new GetPortRequest { Port = 40200 });
        Assert.True(port.CalculateSize() < 64 * 1024, $"GetPort answers {port.CalculateSize()} bytes");
        Assert.All(port.Verdicts, v => Assert.True(v.ObservedProcesses.Count <= 3));

        // The stored state (its checkpoint) is bounded too.
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("flood"));
        var stored = await SightingsServer.EventuallyAsync(async () =>
        {
            await using var command = database.CreateCommand("SELECT coalesce(max(length(payloadbinary)), 0) FROM orleansstorage");
            return Convert.ToInt64(await command.ExecuteScalarAsync());
        }, size => size > 30_000);
        Assert.True(stored < 2 * 1024 * 1024, $"the largest stored port state is {stored} bytes");
    }

    [Fact]
    public async Task Ten_thousand_bogus_tokens_and_hundreds_of_enrollments_leave_connections_memory_and_honest_callers_latency_flat()
    {
        // A server of its own, with the default budget of lookups per address: the flood spends this address's.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "tokenflood", new Dictionary<string, string>
        {
            ["PortHistory__RateLimit__EnrollmentBurst"] = "1000",
            ["PortHistory__RateLimit__FailedAuthenticationBurst"] = "100",
        });
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("postgres"));
        async Task<long> ConnectionsAsync()
        {
            await using var command = database.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = 'tokenflood'");
            return (long)(await command.ExecuteScalarAsync())!;
        }

        var registry = new PortRegistry.PortRegistryClient(server.Server.AnonymousChannel);
        var honest = new PortRegistry.PortRegistryClient(server.Reader);
        var access = new AccessAdmin.AccessAdminClient(server.Admin);
        var secret = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "flood enrollments", Role = Role.Enroll })).Token;
        using var enrollChannel = server.Server.ChannelWith(() => secret);
        var random = new Random(8);
        string Bogus() => "ph_" + Convert.ToBase64String(random.GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        // Warm up (the honest token and the enrollment secret are then cached), then measure.
        await honest.GetPortAsync(new GetPortRequest { Port = 22 });
        await new Enrollment.EnrollmentClient(enrollChannel).EnrollAsync(new EnrollRequest { HostRef = "flood-host-warm-up" });
        await SendAsync(Enumerable.Range(0, 500).Select(_ => Bogus()).ToList());
        var connectionsBefore = await ConnectionsAsync();
        var memoryBefore = Process.GetProcessById(server.Server.ProcessId!.Value).WorkingSet64;
        var lookupsBefore = await TokenLookupsAsync(server.Server, "miss");

        var peakConnections = connectionsBefore;
        var tokens = Enumerable.Range(0, 10_000).Select(i => i % 2 == 0 ? Bogus() : $"garbage-{i}-{new string('x', i % 300)}").ToList();
        var flood = SendAsync(tokens);
        // Meanwhile an enrollment secret enrolls 300 hosts, and an honest reader keeps asking.
        var enrollments = Task.Run(async () =>
        {
            var enrollment = new Enrollment.EnrollmentClient(enrollChannel);
            for (var i = 0; i < 300; i++) await enrollment.EnrollAsync(new EnrollRequest { HostRef = $"flood-host-{i}" });
        });
        var honestCalls = new List<TimeSpan>();
        while (!flood.IsCompleted || !enrollments.IsCompleted)
        {
            var started = Stopwatch.GetTimestamp();
            await honest.GetPortAsync(new GetPortRequest { Port = 22 });
            honestCalls.Add(Stopwatch.GetElapsedTime(started));
            peakConnections = Math.Max(peakConnections, await ConnectionsAsync());
        }

        await enrollments;
        var statuses = await flood;
        // Refused: unknown (Unauthenticated) or, once this address failed too often, without a lookup (ResourceExhausted).
        Assert.Equal(10_000, statuses.Count(s => s is StatusCode.Unauthenticated or StatusCode.ResourceExhausted));
        Assert.True(statuses.Count(s => s == StatusCode.ResourceExhausted) > 4_000, "most well-formed bogus tokens are refused without a lookup");
        Assert.True(await TokenLookupsAsync(server.Server, "miss") - lookupsBefore < 1_000, "lookups stay bounded by the address's budget");
        var memoryAfter = Process.GetProcessById(server.Server.ProcessId!.Value).WorkingSet64;
        Assert.True(peakConnections <= connectionsBefore + 6, $"connections went from {connectionsBefore} to {peakConnections}");
        Assert.True(memoryAfter - memoryBefore < 64L * 1024 * 1024, $"memory grew by {(memoryAfter - memoryBefore) / 1024 / 1024} MiB");
        // The honest reader's token stays cached through every enrollment: its calls never wait for the flood. Were it
        // evicted by each enrollment, most of its calls would queue behind the flood's lookups; one call slowed by the
        // machine (two cores shared with the rest of the suite) is not that, so the bound is on the 95th percentile.
        Assert.NotEmpty(honestCalls);
        honestCalls.Sort();
        var (p95, slowest) = (honestCalls[honestCalls.Count * 95 / 100], honestCalls[^1]);
        Assert.True(p95 < TimeSpan.FromSeconds(1) && slowest < TimeSpan.FromSeconds(5),
            $"of {honestCalls.Count} honest calls, the 95th percentile took {p95.TotalMilliseconds:0} ms and the slowest {slowest.TotalMilliseconds:0} ms");

        async Task<StatusCode[]> SendAsync(IReadOnlyList<string> secrets)
        {
            var statuses = new StatusCode[secrets.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, secrets.Count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            {
                try
                {
                    await registry.GetPortAsync(new GetPortRequest { Port = 22 }, new Metadata { { "authorization", "Bearer " + secrets[i] } });
                    statuses[i] = StatusCode.OK;
                }
                catch (RpcException e)
                {
                    statuses[i] = e.StatusCode;
                }
            });
            return statuses;
        }
    }

    /// <summary>porthistory_tokens_lookups_total for one result, from the server's scrape endpoint.</summary>
    private static async Task<long> TokenLookupsAsync(ServerProcess server, string result)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(server.MetricsAddress + "/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("porthistory_tokens_lookups_total", StringComparison.Ordinal) && l.Contains($"result=\"{result}\"", StringComparison.Ordinal));
        return line is null ? 0 : (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Twenty_thousand_empty_batches_are_rate_limited_and_record_nothing()
    {
        // A rate far below what the calls arrive at, so that most of them must be refused whatever the machine's speed.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "empties",
            new Dictionary<string, string> { ["PortHistory__RateLimit__SightingsPerSecond"] = "200", ["PortHistory__RateLimit__Burst"] = "200" });
        var client = new Sightings.SightingsClient(server.Agent);
        var clock = Stopwatch.StartNew();
        var statuses = new StatusCode[20_000];
        await Parallel.ForEachAsync(Enumerable.Range(0, statuses.Length), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            try
            {
                var result = await client.ReportBatchAsync(new SightingBatch { BatchId = Guid.NewGuid().ToString() });
                statuses[i] = result.Accepted == 0 && !result.Duplicate ? StatusCode.OK : StatusCode.Unknown;
            }
            catch (RpcException e)
            {
                statuses[i] = e.StatusCode;
            }
        });
        var elapsed = clock.Elapsed.TotalSeconds;

        var allowed = statuses.Count(s => s == StatusCode.OK);
        Assert.Equal(statuses.Length, allowed + statuses.Count(s => s == StatusCode.ResourceExhausted));
        // Each empty batch costs one sighting's worth: the burst, then the rate.
        Assert.InRange(allowed, 1, 200 + (int)Math.Ceiling(200 * elapsed) + 100);
        await using var database = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString("empties"));
        await using var command = database.CreateCommand("SELECT count(*) FROM sighting_batches");
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Server_side_imports_read_only_regular_files_inside_the_import_directory_and_never_echo_their_content()
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-imports-");
        try
        {
            const string secret = "TOPSECRET-7f3a9c";
            File.WriteAllText(Path.Combine(directory.FullName, "secret.csv"), $"{secret},b,c\n1,2,3\n");
            File.CreateSymbolicLink(Path.Combine(directory.FullName, "zero.txt"), "/dev/zero");
            File.CreateSymbolicLink(Path.Combine(directory.FullName, "passwd.txt"), "/etc/passwd");
            Directory.CreateDirectory(Path.Combine(directory.FullName, "folder.txt"));
            File.Copy(RegistryData.PathOf("rfc1340.txt"), Path.Combine(directory.FullName, "rfc1340.txt"));
            await using var server = new ServerProcess(fixture.Postgres.ConnectionString("imports"),
                new Dictionary<string, string> { ["PortHistory__Import__ImportDirectory"] = directory.FullName, ["PortHistory__Import__MaxEditionBytes"] = "1048576" });
            await server.StartAsync();

            async Task<RpcException> RefusedAsync(string path) =>
                await RegistryServerFixture.FailsAsync(() => EditionUpload.ImportFromServerAsync(server.Channel, path));

            foreach (var (path, reason) in new[]
            {
                ("/etc/passwd", "is not inside the import directory"),
                (Path.Combine(directory.FullName, "..", "etc", "passwd"), "is not inside the import directory"),
                ("/dev/zero", "is not inside the import directory"),
                (Path.Combine(directory.FullName, "zero.txt"), "is not inside the import directory"),
                (Path.Combine(directory.FullName, "passwd.txt"), "is not inside the import directory"),
                (Path.Combine(directory.FullName, "folder.txt"), "the server cannot read"),
                (Path.Combine(directory.FullName, "missing.txt"), "no such file on the server"),
            })
            {
                var refused = await RefusedAsync(path);
                Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
                Assert.StartsWith("server_path: ", refused.Status.Detail);
                Assert.Contains(reason, refused.Status.Detail);
            }

            var unreadable = await RefusedAsync(Path.Combine(directory.FullName, "secret.csv"));
            Assert.Equal(StatusCode.InvalidArgument, unreadable.StatusCode);
            Assert.DoesNotContain(secret, unreadable.Status.Detail);
            Assert.DoesNotContain(unreadable.Trailers,
                t => (t.IsBinary ? System.Text.Encoding.UTF8.GetString(t.ValueBytes) : t.Value).Contains(secret, StringComparison.Ordinal));

            // A relative path is taken inside the directory, and a regular edition there imports.
            var progress = await EditionUpload.ImportFromServerAsync(server.Channel, "rfc1340.txt");
            Assert.Equal(ImportStage.Committed, progress[^1].Stage);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_an_import_directory_server_side_imports_are_refused()
    {
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("no-imports"),
            new Dictionary<string, string> { ["PortHistory__Import__ImportDirectory"] = "" });
        await server.StartAsync();
        var refused = await RegistryServerFixture.FailsAsync(() => EditionUpload.ImportFromServerAsync(server.Channel, RegistryData.PathOf("rfc1340.txt")));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("no import directory is configured", refused.Status.Detail);
    }

    [Fact]
    public async Task A_request_that_is_not_valid_protobuf_is_invalid_argument_for_unary_and_streaming_calls()
    {
        var server = await ServerAsync();
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        // Field 1 as a length-delimited value that runs past the end of the message.
        byte[] broken = [0x0A, 0x7F, 0x01];
        var invoker = server.Admin.CreateCallInvoker();

        var unary = await RegistryServerFixture.FailsAsync(() => invoker.AsyncUnaryCall(
            new Method<byte[], byte[]>(MethodType.Unary, "porthistory.v1.PortRegistry", "GetPort", bytes, bytes), null, new CallOptions(), broken).ResponseAsync);
        var streamed = await RegistryServerFixture.FailsAsync(async () =>
        {
            using var call = invoker.AsyncClientStreamingCall(
                new Method<byte[], byte[]>(MethodType.ClientStreaming, "porthistory.v1.Sightings", "Report", bytes, bytes), null, new CallOptions());
            try
            {
                await call.RequestStream.WriteAsync(broken);
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // Refused while writing: the status comes with the response.
            }

            await call.ResponseAsync;
        });

        Assert.Equal((StatusCode.InvalidArgument, "request: not a valid message"), (unary.StatusCode, unary.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "request: not a valid message"), (streamed.StatusCode, streamed.Status.Detail));
    }

    private static Sighting With(Sighting sighting, Action<Sighting> change)
    {
        var copy = sighting.Clone();
        change(copy);
        return copy;
    }
}
