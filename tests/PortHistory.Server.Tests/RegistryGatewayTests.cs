// Over 250 lines: the cases share one server with the real editions imported (most of their cost).
using Google.Protobuf;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Protobuf;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>The registry history over real gRPC, from the real server process, after importing all sixteen editions.</summary>
[Collection(ServerCollection.Name)]
public sealed class RegistryGatewayTests(RegistryServerFixture fixture)
{
    private PortRegistry.PortRegistryClient Client => fixture.Registry;

    private static Google.Type.Date Date(int year, int month, int day) => new() { Year = year, Month = month, Day = day };

    private async Task<TransportAssignment> AssignmentAsync(uint port, Transport transport, Google.Type.Date? asOf = null)
    {
        var response = await Client.GetPortAsync(new GetPortRequest { Port = port, Transport = transport, AsOf = asOf });
        return Assert.Single(response.Transports);
    }

    [Fact]
    public async Task Every_import_committed_and_the_editions_come_back_in_history_order()
    {
        Assert.All(fixture.Imports, progress => Assert.Equal(ImportStage.Committed, progress[^1].Stage));
        var editions = await Client.ListEditionsAsync(new ListEditionsRequest());

        Assert.Equal(fixture.Offline.Editions.Select(e => e.Id), editions.Editions.Select(e => e.Id));
        Assert.Equal(fixture.Offline.Editions.Select(e => e.Sha256), editions.Editions.Select(e => e.Sha256));
        Assert.True(editions.Generation > 0);
        Assert.All(editions.Editions, e => Assert.NotNull(e.ImportedAt));
    }

    [Fact]
    public async Task A_reader_served_from_the_published_answer_gets_the_grains_answer_byte_for_byte()
    {
        // A reader's plain GetPort is answered from what the port's activation published (after the first call); an
        // admin's always comes from the grain itself. With no sightings stored the two answers are the same.
        var token = (await new AccessAdmin.AccessAdminClient(fixture.Server.Channel).IssueTokenAsync(
            new IssueTokenRequest { Name = "published answers", Role = Role.Reader })).Token;
        var reader = new PortRegistry.PortRegistryClient(fixture.Server.ChannelWith(() => token));
        foreach (var port in new uint[] { 2, 22, 80, 771, 776, 6000, 40000 })
        {
            var fromGrain = await Client.GetPortAsync(new GetPortRequest { Port = port });
            var first = await reader.GetPortAsync(new GetPortRequest { Port = port });
            var published = await reader.GetPortAsync(new GetPortRequest { Port = port });
            Assert.Equal(fromGrain, first);
            Assert.Equal(fromGrain, published);
            Assert.Equal(fromGrain.ToByteArray(), published.ToByteArray());
        }
    }

    [Fact]
    public async Task Port_771_tcp_is_conventional_rtip_in_1991_and_assigned_rtip_from_1992()
    {
        var in1991 = await Client.GetPortAsync(new GetPortRequest { Port = 771, AsOf = Date(1991, 1, 1) });
        Assert.Equal("rfc1060", in1991.Edition.Id);
        var tcp = Assert.Single(in1991.Transports, t => t.Transport == Transport.Tcp);
        Assert.Equal(("rtip", AssignmentStatus.Conventional, "UNIX PORTS"), (tcp.Records[0].ServiceName, tcp.Records[0].Status, tcp.Records[0].Section));
        Assert.Empty(Assert.Single(in1991.Transports, t => t.Transport == Transport.Udp).Records);

        foreach (var transport in new[] { Transport.Tcp, Transport.Udp })
        {
            var in1993 = await AssignmentAsync(771, transport, Date(1993, 1, 1));
            Assert.Equal(("rtip", AssignmentStatus.Assigned, "rfc1340"), (in1993.Records[0].ServiceName, in1993.Records[0].Status, in1993.Since.Id));
            var now = await AssignmentAsync(771, transport);
            Assert.Equal(("rtip", "rfc1340"), (now.Records[0].ServiceName, now.Since.Id));
        }

        Assert.Null((await Client.GetPortAsync(new GetPortRequest { Port = 771, AsOf = Date(1980, 1, 1) })).Edition);
    }

    [Fact]
    public async Task Port_776_udp_is_wpages_from_1992_through_2026_with_its_contact_from_2004()
    {
        var in1993 = await AssignmentAsync(776, Transport.Udp, Date(1993, 1, 1));
        Assert.Equal("wpages", in1993.Records[0].ServiceName);
        Assert.Empty(in1993.Records[0].Contacts);
        foreach (var date in new[] { Date(2004, 1, 8), Date(2013, 2, 18), Date(2026, 8, 17) })
        {
            var record = (await AssignmentAsync(776, Transport.Udp, date)).Records[0];
            Assert.Equal("wpages", record.ServiceName);
            Assert.Contains(record.Contacts, c => c.Name == "Josyula R. Rao");
        }

        var timeline = Assert.Single((await Client.GetTimelineAsync(new GetTimelineRequest { Port = 776, Transport = Transport.Udp })).Timelines);
        var assigned = timeline.Versions.Where(v => v.Records.Count > 0 && v.Records[0].Status == AssignmentStatus.Assigned).ToList();
        Assert.Equal(("rfc1340", "iana-xml-2026-08-17"), (assigned[0].From.Id, assigned[^1].Through.Id));
        Assert.All(assigned, v => Assert.Equal("wpages", v.Records[0].ServiceName));
    }

    [Fact]
    public async Task Port_773_is_submit_on_tcp_and_notify_on_udp()
    {
        foreach (var date in new[] { Date(1993, 1, 1), Date(2005, 1, 1), Date(2026, 8, 17) })
        {
            Assert.Equal("submit", (await AssignmentAsync(773, Transport.Tcp, date)).Records[0].ServiceName);
            Assert.Equal("notify", (await AssignmentAsync(773, Transport.Udp, date)).Records[0].ServiceName);
        }
    }

    [Fact]
    public async Task Port_2_deassignment_shows_in_its_timeline_and_in_the_diff()
    {
        var timeline = Assert.Single((await Client.GetTimelineAsync(new GetTimelineRequest { Port = 2, Transport = Transport.Tcp })).Timelines);
        var last = timeline.Versions[^1];
        Assert.Equal(ChangeKind.DeAssigned, Assert.Single(last.Changes).Kind);
        Assert.Equal(AssignmentStatus.DeAssigned, last.Records[0].Status);
        Assert.Equal(("2025-02-13", "compressnet"), (last.Records[0].Deassignment.On, last.Records[0].Deassignment.PreviousService));
        Assert.Equal("iana-xml-2026-08-17", last.Through.Id);

        using var call = Client.DiffEditions(new DiffEditionsRequest { FromEdition = "iana-xml-2024-04-30", ToEdition = "iana-xml-2026-08-17" });
        var entries = new List<DiffEntry>();
        await foreach (var batch in call.ResponseStream.ReadAllAsync())
        {
            Assert.Equal(("iana-xml-2024-04-30", "iana-xml-2026-08-17"), (batch.From.Id, batch.To.Id));
            entries.AddRange(batch.Entries);
        }

        foreach (var transport in new[] { Transport.Tcp, Transport.Udp })
        {
            var entry = Assert.Single(entries, e => e.Transport == transport && e.Ports is { First: <= 2, Last: >= 2 });
            Assert.Equal(ChangeKind.DeAssigned, entry.Changes[0].Kind);
        }

        var offline = PortHistory.Registry.History.RegistryHistory.Diff(
            fixture.Offline.FindEdition("iana-xml-2024-04-30")!, fixture.Offline.FindEdition("iana-xml-2026-08-17")!);
        Assert.Equal(offline.Entries.Select(e => (e.Transport, e.Ports, e.Kind, string.Join(";", e.Changes.Select(c => c.Kind)))),
            entries.Select(e => (e.Transport.ToDomain(), e.Ports?.ToDomain(), e.Kind.ToDomain(), string.Join(";", e.Changes.Select(c => c.Kind.ToDomain())))));
    }

    [Fact]
    public async Task FindService_wpages_returns_776_on_tcp_and_udp_from_1992_on()
    {
        var response = await Client.FindServiceAsync(new FindServiceRequest { Name = "WPages" });
        var assigned = response.Holdings.Where(h => h.Status == AssignmentStatus.Assigned).ToList();

        Assert.Equal([Transport.Tcp, Transport.Udp], assigned.Select(h => h.Transport).Order());
        Assert.All(assigned, h => Assert.Equal((776u, 776u, "rfc1340", "iana-xml-2026-08-17"), (h.Ports.First, h.Ports.Last, h.From.Id, h.Through.Id)));
        var renames = await Client.FindServiceAsync(new FindServiceRequest { Name = "acmaint_dbd" });
        Assert.Contains(renames.Renames, r => r.From == "acmaint_dbd" && r.To == "acmaint-dbd");
    }

    [Fact]
    public async Task Timelines_from_the_port_grains_equal_the_history_built_offline()
    {
        var ports = Enumerable.Range(0, 1100).Concat([1524, 2049, 5000, 6000, 6063, 8080, 27000, 49151, 49152, 65535]);
        foreach (var port in ports)
        {
            var response = await Client.GetTimelineAsync(new GetTimelineRequest { Port = (uint)port });
            var expected = fixture.Offline.Timelines(port).Select(t => t.ToProto()).ToList();
            Assert.Equal(expected, response.Timelines);
        }
    }

    [Fact]
    public async Task ListPorts_streams_every_listed_port_in_order_as_the_offline_history_lists_it()
    {
        foreach (var asOf in new Google.Type.Date?[] { null, Date(1993, 1, 1), Date(2005, 6, 1) })
        {
            using var call = Client.ListPorts(new ListPortsRequest { Range = new PortRange { First = 0, Last = 5000 }, AsOf = asOf });
            var rows = new List<PortAssignment>();
            await foreach (var batch in call.ResponseStream.ReadAllAsync()) rows.AddRange(batch.Ports);

            var date = asOf?.ToDomain();
            var expected = fixture.Offline.ListPorts(new Registry.Model.PortSpan(0, 5000), date).ToList();
            Assert.Equal(expected.Select(e => (e.Port, e.Transport, e.Primary.ServiceName ?? "", e.Primary.Status, e.Since.Id)),
                rows.Select(r => ((int)r.Port, r.Transport.ToDomain(), r.Records[0].ServiceName, r.Records[0].Status.ToDomain(), r.Since.Id)));
        }

        using var filtered = Client.ListPorts(new ListPortsRequest
        {
            Range = new PortRange { First = 0, Last = 20 }, Status = AssignmentStatus.DeAssigned, Transport = Transport.Tcp,
        });
        var deassigned = new List<uint>();
        await foreach (var batch in filtered.ResponseStream.ReadAllAsync()) deassigned.AddRange(batch.Ports.Select(p => p.Port));
        Assert.Equal([2u, 3u, 15u], deassigned);
    }

    [Fact]
    public async Task Bad_requests_are_invalid_argument_naming_the_field()
    {
        async Task Expect(string field, Func<Task> call)
        {
            var error = await RegistryServerFixture.FailsAsync(call);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.StartsWith($"{field}: ", error.Status.Detail);
        }

        await Expect("port", () => Client.GetPortAsync(new GetPortRequest { Port = 70000 }).ResponseAsync);
        await Expect("port", () => Client.GetPortAsync(new GetPortRequest()).ResponseAsync);
        await Expect("transport", () => Client.GetPortAsync(new GetPortRequest { Port = 22, Transport = (Transport)9 }).ResponseAsync);
        await Expect("as_of", () => Client.GetPortAsync(new GetPortRequest { Port = 22, AsOf = Date(2020, 13, 40) }).ResponseAsync);
        await Expect("port", () => Client.GetTimelineAsync(new GetTimelineRequest { Port = 65536 }).ResponseAsync);
        await Expect("name", () => Client.FindServiceAsync(new FindServiceRequest { Name = "  " }).ResponseAsync);
        await Expect("to_edition", async () =>
        {
            using var call = Client.DiffEditions(new DiffEditionsRequest { FromEdition = "rfc1340", ToEdition = "rfc9999" });
            await call.ResponseStream.MoveNext();
        });
        await Expect("ports", async () =>
        {
            using var call = Client.DiffEditions(new DiffEditionsRequest { FromEdition = "rfc1340", ToEdition = "rfc1700", Ports = new PortRange { First = 9, Last = 1 } });
            await call.ResponseStream.MoveNext();
        });
        await Expect("range", async () =>
        {
            using var call = Client.ListPorts(new ListPortsRequest { Range = new PortRange { First = 0, Last = 70000 } });
            await call.ResponseStream.MoveNext();
        });
        await Expect("status", async () =>
        {
            using var call = Client.ListPorts(new ListPortsRequest { Status = (AssignmentStatus)42 });
            await call.ResponseStream.MoveNext();
        });
    }

    [Fact]
    public async Task A_malformed_edition_is_refused_with_file_line_and_reason_and_nothing_is_stored()
    {
        var before = await Client.ListEditionsAsync(new ListEditionsRequest());
        var truncated = Path.Combine(Path.GetTempPath(), $"truncated-{Guid.NewGuid():N}.xml");
        var bytes = RegistryData.Bytes("service-names-port-numbers_2026-08-17.xml");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 3)]);
        try
        {
            var error = await RegistryServerFixture.FailsAsync(() => EditionUpload.ImportAsync(fixture.Server.Channel, truncated));

            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Matches($@"^file: {Path.GetFileName(truncated).Replace(".", "\\.")}:\d+: XML is not well-formed", error.Status.Detail);
            Assert.True(int.Parse(error.Trailers.GetValue("edition-line")!) > 1000);
            var after = await Client.ListEditionsAsync(new ListEditionsRequest());
            Assert.Equal(before, after);
        }
        finally
        {
            File.Delete(truncated);
        }
    }

    [Fact]
    public async Task Importing_an_edition_again_changes_nothing()
    {
        var before = await Client.ListEditionsAsync(new ListEditionsRequest());

        var again = await EditionUpload.ImportAsync(fixture.Server.Channel, RegistryData.PathOf("rfc1340.txt"));

        Assert.Equal(ImportStage.AlreadyImported, again[^1].Stage);
        Assert.Equal("rfc1340", again[^1].Edition.Id);
        Assert.Equal(before, await Client.ListEditionsAsync(new ListEditionsRequest()));
    }

    [Fact]
    public async Task Another_file_claiming_an_existing_edition_id_is_refused_and_the_same_bytes_under_another_id_are_the_same_edition()
    {
        var changed = Path.Combine(Path.GetTempPath(), $"rfc1700-{Guid.NewGuid():N}.txt");
        await File.WriteAllBytesAsync(changed, [.. RegistryData.Bytes("rfc1700.txt"), (byte)'\n']);
        try
        {
            var error = await RegistryServerFixture.FailsAsync(() => EditionUpload.ImportAsync(fixture.Server.Channel, changed,
                new ImportEditionHeader { EditionId = "rfc1340" }));
            Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
            Assert.StartsWith("edition_id: \"rfc1340\"", error.Status.Detail);
        }
        finally
        {
            File.Delete(changed);
        }

        var sameBytes = await EditionUpload.ImportAsync(fixture.Server.Channel, RegistryData.PathOf("rfc1700.txt"), new ImportEditionHeader { EditionId = "other-id" });
        Assert.Equal((ImportStage.AlreadyImported, "rfc1700"), (sameBytes[^1].Stage, sameBytes[^1].Edition.Id));
    }

    [Fact]
    public async Task Reflection_lists_the_porthistory_services()
    {
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(fixture.Server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("porthistory.v1.PortRegistry", services);
        Assert.Contains("porthistory.v1.RegistryAdmin", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }
}
