// Over 250 lines: the cases share one server and its reported fleet (most of their cost); another class would set up another.
using Grpc.Core;
using PortHistory.Cli;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// Operators' expectations on a server of their own (twenty hosts report; expectations are set after the sightings
/// are applied, so the verdicts must be judged again), through gRPC and through the CLI; and, on the same server,
/// what the local service tables Debian installs say about a port in GetPort and in verdict reasons.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ExpectationTests(RegistryServerFixture fixture, ClassResources resources) : IAsyncLifetime, IClassFixture<ClassResources>
{
    private static readonly List<string> Hosts = [.. Enumerable.Range(1, 20).Select(i => $"host-{i:D2}")];

    // Every sighting here is of one scan of the fleet: batches of a scan share its time (a later time would be the
    // hosts' next scan, after which what it does not list is gone).
    private static readonly DateTime Scanned = DateTime.UtcNow.AddSeconds(-5);
    private SightingsServer _server = null!;

    public async Task InitializeAsync() => _server = await resources.SharedAsync("expectations", async () =>
    {
        var server = await SightingsServer.StartAsync(fixture.Postgres, "expectations");
        foreach (var (table, format) in new[] { (LocalServiceTables.EtcServices, EditionFormat.Services), (LocalServiceTables.NmapServices, EditionFormat.NmapServices) }
                     .Where(t => File.Exists(t.Item1)))
        {
            // Dated as an offline reading dates it: by the file's modification time.
            var date = DateOnly.FromDateTime(File.GetLastWriteTimeUtc(table));
            var progress = await EditionUpload.ImportAsync(server.Admin, table,
                new ImportEditionHeader { Format = format, EffectiveDate = new Google.Type.Date { Year = date.Year, Month = date.Month, Day = date.Day } });
            Assert.Equal(ImportStage.Committed, progress[^1].Stage);
        }

        await ReportFleetAsync(server);
        return server;
    });

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task ReportFleetAsync(SightingsServer server)
    {
        var sightings = new List<Sighting>();
        sightings.AddRange(Hosts.Select(h => Sighting(h, 22, Transport.Tcp, "sshd", observedAt: Scanned)));
        // rpc.statd where the registry says wpages; telnetd where an operator will expect sshd; an unassigned port.
        sightings.AddRange(Hosts.Take(12).Select(h => Sighting(h, 776, Transport.Udp, "rpc.statd", observedAt: Scanned)));
        sightings.AddRange(Hosts.Take(4).Select(h => Sighting(h, 777, Transport.Tcp, "telnetd", observedAt: Scanned)));
        sightings.AddRange(Hosts.Take(5).Select(h => Sighting(h, 4, Transport.Tcp, "vendor-agent", "/opt/vendor/agent", observedAt: Scanned)));
        var client = new Sightings.SightingsClient(server.Agent);
        foreach (var chunk in sightings.Chunk(25)) Assert.Equal((uint)chunk.Length, (await client.ReportBatchAsync(Batch(chunk))).Accepted);

        var observations = new ObservationsService.ObservationsClient(server.Admin);
        foreach (var port in sightings.GroupBy(s => s.Port))
        {
            await SightingsServer.EventuallyAsync(() => observations.GetObservedAsync(new GetObservedRequest { Port = port.Key }).ResponseAsync,
                r => r.Observed.Transports.SelectMany(t => t.Processes).Sum(p => (long)p.Sightings) == port.Count());
        }

        await SightingsServer.EventuallyAsync(() => observations.GetObservedAsync(new GetObservedRequest { Port = 771 }).ResponseAsync,
            r => r.Observed.ReportingHosts == (ulong)Hosts.Count);
        // And until the ports' first checkpoints put them in the index: a change of expectations judges the ports listed there again.
        await SightingsServer.EventuallyAsync(() => IndexedPortsAsync(server), ports => sightings.All(s => ports.Contains(s.Port)));
    }

    private static async Task<HashSet<uint>> IndexedPortsAsync(SightingsServer server)
    {
        var request = new ListDiscrepanciesRequest();
        request.Verdicts.AddRange(Enum.GetValues<VerdictKind>().Where(k => k != VerdictKind.Unspecified));
        using var call = new ObservationsService.ObservationsClient(server.Admin).ListDiscrepancies(request);
        var ports = new HashSet<uint>();
        await foreach (var page in call.ResponseStream.ReadAllAsync()) ports.UnionWith(page.Discrepancies.Select(d => d.Port));
        return ports;
    }

    private ExpectationAdmin.ExpectationAdminClient Admin => new(_server.Admin);

    private static Expectation Expect(uint port, Transport transport, string process, string note = "") =>
        new() { Port = port, Transport = transport, Process = process, Note = note };

    private async Task<List<Discrepancy>> DiscrepanciesAsync(params VerdictKind[] kinds)
    {
        var request = new ListDiscrepanciesRequest();
        request.Verdicts.AddRange(kinds);
        using var call = new ObservationsService.ObservationsClient(_server.Reader).ListDiscrepancies(request);
        var found = new List<Discrepancy>();
        await foreach (var page in call.ResponseStream.ReadAllAsync()) found.AddRange(page.Discrepancies);
        return found;
    }

    [Fact]
    public async Task An_expectation_makes_rpc_statd_expected_on_776_and_telnetd_unexpected_where_sshd_is_expected()
    {
        var statd = (await Admin.SetExpectationAsync(new SetExpectationRequest { Expectation = Expect(776, Transport.Udp, "rpc.statd", "NFS status monitor") })).Expectation;
        await Admin.SetExpectationAsync(new SetExpectationRequest { Expectation = Expect(777, Transport.Tcp, "sshd") });
        Assert.False(string.IsNullOrEmpty(statd.SetBy));

        // GetPort judges by the expectations at once.
        var port = await new PortRegistry.PortRegistryClient(_server.Reader).GetPortAsync(new GetPortRequest { Port = 776, Transport = Transport.Udp });
        var verdict = Assert.Single(port.Verdicts);
        Assert.Equal(VerdictKind.Expected, verdict.Kind);
        Assert.Equal("wpages", verdict.AssignedService);
        Assert.StartsWith($"expected: 776/udp rpc.statd (rule set by {statd.SetBy} on ", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("NFS status monitor", verdict.Reason, StringComparison.Ordinal);

        // The index was rewritten before the calls returned: discrepancies show the new verdicts without waiting.
        var judged = await DiscrepanciesAsync(VerdictKind.Expected, VerdictKind.Unexpected, VerdictKind.Squatter, VerdictKind.Unregistered);
        Assert.Equal(VerdictKind.Expected, judged.Single(d => d.Port == 776).Verdict.Kind);
        var telnet = judged.Single(d => d.Port == 777).Verdict;
        Assert.Equal(VerdictKind.Unexpected, telnet.Kind);
        Assert.Contains("telnetd on 4 host(s), but expected: 777/tcp sshd (rule set by", telnet.Reason, StringComparison.Ordinal);
        // Once expectations exist, a listener neither they nor the registry cover is unexpected, no longer unregistered.
        var vendor = judged.Single(d => d.Port == 4).Verdict;
        Assert.Equal(VerdictKind.Unexpected, vendor.Kind);
        Assert.Contains("no expectation covers the port", vendor.Reason, StringComparison.Ordinal);
        // The default discrepancies include the unexpected and leave the expected out.
        var defaults = await DiscrepanciesAsync();
        Assert.Contains(defaults, d => d.Port == 777 && d.Verdict.Kind == VerdictKind.Unexpected);
        Assert.DoesNotContain(defaults, d => d.Port == 776 && d.Verdict.Transport == Transport.Udp);

        // Removing the expectation makes 776 a squatter again.
        await Admin.RemoveExpectationAsync(new RemoveExpectationRequest { Port = 776, Transport = Transport.Udp, Process = "rpc.statd" });
        Assert.Equal(VerdictKind.Squatter, (await DiscrepanciesAsync(VerdictKind.Squatter)).Single(d => d.Port == 776).Verdict.Kind);
    }

    [Fact]
    public async Task A_group_rule_speaks_for_processes_agents_report_in_that_group_only()
    {
        var client = new Sightings.SightingsClient(_server.Agent);
        var inDb = Batch(Hosts.Take(5).Select(h => Sighting(h, 5432, Transport.Tcp, "postgres", observedAt: Scanned)));
        inDb.HostGroup = "db";
        var inWeb = Batch(Hosts.Take(5).Select(h => Sighting(h, 3306, Transport.Tcp, "mysqld", observedAt: Scanned)));
        inWeb.HostGroup = "web";
        Assert.Equal(5u, (await client.ReportBatchAsync(inDb)).Accepted);
        Assert.Equal(5u, (await client.ReportBatchAsync(inWeb)).Accepted);
        var badGroup = Batch([Sighting(Hosts[0], 5432, Transport.Tcp, "postgres", observedAt: Scanned)]);
        badGroup.HostGroup = "db/primary";
        var refused = await client.ReportBatchAsync(badGroup);
        Assert.Equal(0u, refused.Accepted);
        Assert.StartsWith("host_group:", refused.Error, StringComparison.Ordinal);
        await SightingsServer.EventuallyAsync(() => IndexedPortsAsync(_server), ports => ports.Contains(5432) && ports.Contains(3306));

        try
        {
            await Admin.SetExpectationAsync(new SetExpectationRequest { Expectation = InGroup(Expect(5432, Transport.Tcp, "postgres"), "db") });
            await Admin.SetExpectationAsync(new SetExpectationRequest { Expectation = InGroup(Expect(3306, Transport.Tcp, "mysqld"), "db") });

            var registry = new PortRegistry.PortRegistryClient(_server.Reader);
            var postgres = Assert.Single((await registry.GetPortAsync(new GetPortRequest { Port = 5432, Transport = Transport.Tcp })).Verdicts);
            Assert.Equal(VerdictKind.Expected, postgres.Kind);
            Assert.Contains("5432/tcp postgres in group db", postgres.Reason, StringComparison.Ordinal);
            // mysqld was reported from the web group only: the db group's rule does not speak for it.
            var mysql = Assert.Single((await registry.GetPortAsync(new GetPortRequest { Port = 3306, Transport = Transport.Tcp })).Verdicts);
            Assert.NotEqual(VerdictKind.Expected, mysql.Kind);
            Assert.DoesNotContain("in group db", mysql.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await Admin.RemoveExpectationAsync(new RemoveExpectationRequest { Port = 5432, Transport = Transport.Tcp, Process = "postgres", HostGroup = "db" });
            await Admin.RemoveExpectationAsync(new RemoveExpectationRequest { Port = 3306, Transport = Transport.Tcp, Process = "mysqld", HostGroup = "db" });
        }
    }

    private static Expectation InGroup(Expectation expectation, string group)
    {
        expectation.HostGroup = group;
        return expectation;
    }

    [Fact]
    public async Task Bad_expectations_are_refused_with_the_field_named()
    {
        async Task<RpcException> Refused(Expectation e) =>
            await RegistryServerFixture.FailsAsync(() => Admin.SetExpectationAsync(new SetExpectationRequest { Expectation = e }).ResponseAsync);

        Assert.StartsWith("expectation.port: must be 0-65535", (await Refused(Expect(70_000, Transport.Tcp, "sshd"))).Status.Detail);
        Assert.StartsWith("expectation.transport: ", (await Refused(Expect(22, (Transport)9, "sshd"))).Status.Detail);
        Assert.StartsWith("expectation.process: contains whitespace", (await Refused(Expect(22, Transport.Tcp, "ssh d"))).Status.Detail);
        Assert.StartsWith("expectation.process: contains the bidirectional control", (await Refused(Expect(22, Transport.Tcp, "sshd\u202E"))).Status.Detail);
        var reader = await RegistryServerFixture.FailsAsync(() => new ExpectationAdmin.ExpectationAdminClient(_server.Reader)
            .ListExpectationsAsync(new ListExpectationsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, reader.StatusCode);
        var twice = await RegistryServerFixture.FailsAsync(() => Admin.ReplaceExpectationsAsync(new ReplaceExpectationsRequest
        {
            Expectations = { Expect(22, Transport.Tcp, "sshd"), Expect(22, Transport.Tcp, "sshd") },
            DryRun = true,
        }).ResponseAsync);
        Assert.Equal("expectations: 22/tcp sshd is listed 2 times", twice.Status.Detail);
    }

    [Fact]
    public async Task The_cli_adds_an_expectation_and_observed_shows_the_verdict_citing_it()
    {
        var added = await CliAsync("expect", "add", "22/tcp", "sshd", "--note", "remote administration");
        Assert.Equal((0, ""), (added.Exit, added.Error));
        Assert.StartsWith("added: 22/tcp sshd (remote administration)", added.Output, StringComparison.Ordinal);

        var observed = await CliAsync("observed", "22", "--transport", "tcp");
        Assert.Equal(0, observed.Exit);
        Assert.Matches(@"tcp\s+expected\s+expected: 22/tcp sshd \(rule set by .* remote administration\)", observed.Output);

        var listed = await CliAsync("expect", "list", "--json");
        Assert.Contains("\"process\": \"sshd\"", listed.Output, StringComparison.Ordinal);
        var expected = await CliAsync("discrepancies", "--verdict", "expected", "--range", "22");
        Assert.Contains("22/tcp sshd", expected.Output, StringComparison.Ordinal);

        var bad = await CliAsync("expect", "add", "22/icmp", "sshd");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("transport must be tcp, udp, sctp or dccp", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_and_import_round_trip_and_an_import_replaces_the_set_reporting_what_changed()
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-expect-");
        try
        {
            var file = Path.Combine(directory.FullName, "expectations.txt");
            Assert.Equal(0, (await CliAsync("expect", "export", file)).Exit);
            var before = await File.ReadAllTextAsync(file);

            var same = await CliAsync("expect", "import", file);
            Assert.Equal((0, ""), (same.Exit, same.Error));
            Assert.Matches(@"added 0, changed 0, removed 0; \d+ unchanged", same.Output);

            var edited = before + "5432/tcp postgres group=db # primary databases\n111/udp rpcbind\n";
            await File.WriteAllTextAsync(file, edited);
            var dryRun = await CliAsync("expect", "import", file, "--dry-run");
            Assert.Contains("would add 2, change 0, remove 0", dryRun.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(await ListAsync(), e => e.Port == 5432);

            var applied = await CliAsync("expect", "import", file);
            Assert.Contains("added: 5432/tcp postgres in group db (primary databases)", applied.Output, StringComparison.Ordinal);
            Assert.Contains("added: 111/udp rpcbind", applied.Output, StringComparison.Ordinal);
            Assert.Contains(await ListAsync(), e => e is { Port: 5432, Transport: Transport.Tcp, Process: "postgres", HostGroup: "db", Note: "primary databases" });

            // Exported again, the file reads as it was written (sorted by port), and importing the first export removes both.
            var again = Path.Combine(directory.FullName, "again.txt");
            Assert.Equal(0, (await CliAsync("expect", "export", again)).Exit);
            Assert.Contains("111/udp rpcbind\n", await File.ReadAllTextAsync(again), StringComparison.Ordinal);
            Assert.Contains("5432/tcp postgres group=db # primary databases\n", await File.ReadAllTextAsync(again), StringComparison.Ordinal);
            await File.WriteAllTextAsync(file, before);
            var restored = await CliAsync("expect", "import", file);
            Assert.Contains("removed: 5432/tcp postgres in group db", restored.Output, StringComparison.Ordinal);
            Assert.Contains("added 0, changed 0, removed 2", restored.Output, StringComparison.Ordinal);

            await File.WriteAllTextAsync(file, "22/tcp sshd group=a group=b\n");
            var bad = await CliAsync("expect", "import", file);
            Assert.Equal(2, bad.Exit);
            Assert.StartsWith("error: expectations.txt:1: ", bad.Error, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [InstalledFileFact(LocalServiceTables.NmapServices, LocalServiceTables.NmapServicesPackage)]
    public async Task GetPort_lists_what_nmap_services_says_and_a_ghost_cites_its_open_frequency()
    {
        var line = LocalServiceTables.LineFor(LocalServiceTables.NmapServices, "wpages", 776, "udp")!;
        var frequency = double.Parse(line[2], System.Globalization.CultureInfo.InvariantCulture);

        var port = await new PortRegistry.PortRegistryClient(_server.Reader).GetPortAsync(new GetPortRequest { Port = 776 });
        var nmap = Assert.Single(port.Local, l => l.Transport == Transport.Udp && l.Edition.Format == EditionFormat.NmapServices);
        Assert.Equal("wpages", nmap.ServiceName);
        Assert.Equal(frequency, nmap.OpenFrequency);

        // Nothing runs on 771 (rtip) on any of the twenty hosts: a ghost, and nmap's scans say how rarely it is open.
        var rtip = LocalServiceTables.LineFor(LocalServiceTables.NmapServices, "rtip", 771, "tcp")!;
        var ghost = await new ObservationsService.ObservationsClient(_server.Reader).GetObservedAsync(new GetObservedRequest { Port = 771, Transport = Transport.Tcp });
        var verdict = Assert.Single(ghost.Verdicts);
        Assert.Equal(VerdictKind.Ghost, verdict.Kind);
        Assert.Contains($"nmap-services open frequency {double.Parse(rtip[2], System.Globalization.CultureInfo.InvariantCulture).ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)}",
            verdict.Reason, StringComparison.Ordinal);

        var cli = await CliAsync("port", "776");
        Assert.Contains($"local: nmap-services says wpages on 776/udp (open frequency {line[2]})", cli.Output, StringComparison.Ordinal);
    }

    [InstalledFileFact(LocalServiceTables.EtcServices, LocalServiceTables.EtcServicesPackage)]
    public async Task GetPort_lists_what_etc_services_says()
    {
        var line = LocalServiceTables.LineFor(LocalServiceTables.EtcServices, "ssh", 22, "tcp")!;

        var port = await new PortRegistry.PortRegistryClient(_server.Reader).GetPortAsync(new GetPortRequest { Port = 22, Transport = Transport.Tcp });
        var services = Assert.Single(port.Local, l => l.Edition.Format == EditionFormat.Services);
        Assert.Equal((line[0], Transport.Tcp), (services.ServiceName, services.Transport));
        Assert.All(port.Local, l => Assert.Equal(Transport.Tcp, l.Transport));
    }

    private async Task<List<Expectation>> ListAsync() => [.. (await Admin.ListExpectationsAsync(new ListExpectationsRequest())).Expectations];

    private async Task<(int Exit, string Output, string Error)> CliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(["--server", _server.Server.Address, "--token", _server.Server.AdminToken, .. args], output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
