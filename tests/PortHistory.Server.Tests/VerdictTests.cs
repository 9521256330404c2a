using Grpc.Core;
using PortHistory.Cli;
using PortHistory.Contracts.V1;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>Registry against reality on a synthetic fleet of twenty hosts.</summary>
[Collection(ServerCollection.Name)]
public sealed class VerdictTests(RegistryServerFixture fixture, ClassResources resources) : IAsyncLifetime, IClassFixture<ClassResources>
{
    private SightingsServer _server = null!;

    public async Task InitializeAsync() => _server = await resources.SharedAsync("verdicts", async () =>
    {
        var server = await SightingsServer.StartAsync(fixture.Postgres, "verdicts");
        await ReportFleetAsync(server);
        return server;
    });

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task ReportFleetAsync(SightingsServer server)
    {
        var hosts = Enumerable.Range(1, 20).Select(i => $"host-{i:D2}").ToList();
        var sightings = new List<Sighting>();
        foreach (var host in hosts)
        {
            sightings.Add(Sighting(host, 22, Transport.Tcp, "sshd"));
            sightings.Add(Sighting(host, 60000, Transport.Udp, "chrome", "/opt/google/chrome/chrome", "0.0.0.0"));
        }

        // rpc.statd on twelve hosts, on 776/udp where the registry says wpages.
        sightings.AddRange(hosts.Take(12).Select(h => Sighting(h, 776, Transport.Udp, "rpc.statd", "/usr/sbin/rpc.statd")));
        // An agent of some vendor on 4/tcp, which is unassigned.
        sightings.AddRange(hosts.Take(5).Select(h => Sighting(h, 4, Transport.Tcp, "vendor-agent", "/opt/vendor/agent")));
        // One host runs something odd on 776/tcp: too few hosts to say, and not to be shown to readers.
        sightings.Add(Sighting("host-01", 776, Transport.Tcp, "backdoor", "/tmp/.x/backdoor"));

        var sightingsClient = new Sightings.SightingsClient(server.Agent);
        foreach (var chunk in sightings.Chunk(25))
        {
            var result = await sightingsClient.ReportBatchAsync(Batch(chunk));
            Assert.Equal((uint)chunk.Length, result.Accepted);
        }

        // Acknowledged means journaled; the grains apply batches a dispatch window later, possibly in different windows.
        // Wait until every port holds all of its sightings so that no test reads a half-applied fleet.
        var observations = new ObservationsService.ObservationsClient(server.Admin);
        foreach (var port in sightings.GroupBy(s => s.Port))
        {
            await SightingsServer.EventuallyAsync(
                () => observations.GetObservedAsync(new GetObservedRequest { Port = port.Key }).ResponseAsync,
                r => r.Observed.Transports.SelectMany(t => t.Processes).Sum(p => (long)p.Sightings) == port.Count());
        }

        // Ghost verdicts name the fleet's reporting hosts, which the silo counts after each commit.
        await SightingsServer.EventuallyAsync(
            () => observations.GetObservedAsync(new GetObservedRequest { Port = 771 }).ResponseAsync,
            r => r.Observed.ReportingHosts == (ulong)hosts.Count);
    }

    private async Task<Verdict> VerdictAsync(uint port, Transport transport, VerdictKind expected)
    {
        var client = new ObservationsService.ObservationsClient(_server.Reader);
        var response = await SightingsServer.EventuallyAsync(
            () => client.GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport }).ResponseAsync,
            r => r.Verdicts.Any(v => v.Kind == expected));
        return response.Verdicts.Single(v => v.Transport == transport);
    }

    [Fact]
    public async Task Rpc_statd_on_776_udp_is_a_squatter_named_in_the_reason()
    {
        var verdict = await VerdictAsync(776, Transport.Udp, VerdictKind.Squatter);

        Assert.Equal("wpages", verdict.AssignedService);
        Assert.Contains("rpc.statd", verdict.Reason);
        Assert.Contains("on 12 host(s)", verdict.Reason);
        Assert.Equal(["rpc.statd"], verdict.ObservedProcesses);
    }

    [Fact]
    public async Task Port_771_with_enough_reporting_hosts_and_nothing_on_it_is_a_ghost()
    {
        var verdict = await VerdictAsync(771, Transport.Tcp, VerdictKind.Ghost);

        Assert.Equal("rtip", verdict.AssignedService);
        Assert.Contains("none of the 20 reporting hosts", verdict.Reason);
    }

    [Fact]
    public async Task Sshd_on_22_tcp_is_a_match_and_the_dynamic_range_is_dynamic()
    {
        Assert.Equal("ssh", (await VerdictAsync(22, Transport.Tcp, VerdictKind.Match)).AssignedService);
        Assert.Contains("dynamic/private range", (await VerdictAsync(60000, Transport.Udp, VerdictKind.Dynamic)).Reason);
        Assert.Contains("nothing is assigned", (await VerdictAsync(4, Transport.Tcp, VerdictKind.Unregistered)).Reason);
    }

    [Fact]
    public async Task GetPort_carries_the_observed_summary_and_the_verdicts()
    {
        var registry = new PortRegistry.PortRegistryClient(_server.Reader);
        var port = await SightingsServer.EventuallyAsync(() => registry.GetPortAsync(new GetPortRequest { Port = 776 }).ResponseAsync,
            r => r.Verdicts.Any(v => v.Kind == VerdictKind.Squatter));

        var udp = Assert.Single(port.Observed.Transports, t => t.Transport == Transport.Udp);
        var statd = Assert.Single(udp.Processes);
        Assert.Equal(("rpc.statd", 12ul, 12ul), (statd.ProcessName, statd.DistinctHosts, statd.Sightings));
        Assert.Equal(12ul, statd.WildcardSightings);
        Assert.Empty(statd.HostRefs);
        Assert.Equal("wpages", port.Transports.Single(t => t.Transport == Transport.Udp).Records[0].ServiceName);
    }

    [Fact]
    public async Task Processes_on_too_few_hosts_and_host_ids_are_for_admins_only()
    {
        var asReader = new ObservationsService.ObservationsClient(_server.Reader);
        var asAdmin = new ObservationsService.ObservationsClient(_server.Admin);
        var reader = await SightingsServer.EventuallyAsync(
            () => asReader.GetObservedAsync(new GetObservedRequest { Port = 776, Transport = Transport.Tcp }).ResponseAsync,
            r => r.Observed.Transports.Count == 1);
        var tcp = Assert.Single(reader.Observed.Transports);
        Assert.Empty(tcp.Processes);
        Assert.Equal(1u, tcp.WithheldProcesses);
        Assert.Equal(VerdictKind.InsufficientEvidence, Assert.Single(reader.Verdicts).Kind);
        Assert.DoesNotContain("backdoor", reader.Verdicts[0].Reason);

        var admin = await asAdmin.GetObservedAsync(new GetObservedRequest { Port = 776 });
        var backdoor = Assert.Single(admin.Observed.Transports.Single(t => t.Transport == Transport.Tcp).Processes);
        Assert.Equal("backdoor", backdoor.ProcessName);
        Assert.Equal(["host-01"], backdoor.HostRefs);
        Assert.Equal(12, admin.Observed.Transports.Single(t => t.Transport == Transport.Udp).Processes[0].HostRefs.Count);
    }

    [Fact]
    public async Task ListDiscrepancies_lists_squatters_unregistered_use_and_ghosts_from_the_index()
    {
        var client = new ObservationsService.ObservationsClient(_server.Reader);
        async Task<List<Discrepancy>> ListAsync(params VerdictKind[] kinds)
        {
            var request = new ListDiscrepanciesRequest { Range = new PortRange { First = 0, Last = 1023 } };
            request.Verdicts.AddRange(kinds);
            using var call = client.ListDiscrepancies(request);
            var found = new List<Discrepancy>();
            await foreach (var batch in call.ResponseStream.ReadAllAsync()) found.AddRange(batch.Discrepancies);
            return found;
        }

        // The index follows grain checkpoints: until 776/udp's sightings are in, it lists 776/udp as a ghost.
        static bool Statd(Discrepancy d) => d is { Port: 776, Verdict: { Kind: VerdictKind.Squatter, Transport: Transport.Udp } } && d.Hosts == 12;
        static bool VendorAgent(Discrepancy d) => d is { Port: 4, Verdict: { Kind: VerdictKind.Unregistered, Transport: Transport.Tcp } } && d.Hosts == 5;
        // 22/tcp stays listed (as a ghost) until port 22's grain has written its checkpoint with sshd in it.
        static bool SshOverTcp(Discrepancy d) => d is { Port: 22, Verdict.Transport: Transport.Tcp };
        var all = await SightingsServer.EventuallyAsync(() => ListAsync(), d => d.Any(Statd) && d.Any(VendorAgent) && !d.Any(SshOverTcp));
        Assert.Contains(all, d => d is { Port: 771, Verdict: { Kind: VerdictKind.Ghost, Transport: Transport.Tcp } });
        // ssh is assigned on udp and sctp too, and nothing runs there.
        Assert.Contains(all, d => d is { Port: 22, Verdict: { Kind: VerdictKind.Ghost, Transport: Transport.Udp } });
        Assert.Equal(all.OrderBy(d => d.Port).ThenBy(d => d.Verdict.Transport).Select(d => (d.Port, d.Verdict.Transport)), all.Select(d => (d.Port, d.Verdict.Transport)));

        var squatters = await ListAsync(VerdictKind.Squatter);
        Assert.All(squatters, d => Assert.Equal(VerdictKind.Squatter, d.Verdict.Kind));
        Assert.Contains(squatters, d => d.Port == 776);
        Assert.Contains(await ListAsync(VerdictKind.Match), d => d.Port == 22);
    }

    private async Task<(int Exit, string Output, string Error)> CliAsync(string token, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(["--server", _server.Server.Address, "--token", token, .. args], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task The_cli_shows_observed_usage_verdicts_and_discrepancies()
    {
        await VerdictAsync(776, Transport.Udp, VerdictKind.Squatter);

        var observed = await CliAsync(_server.ReaderToken, "observed", "776", "--transport", "udp");
        Assert.Equal((0, ""), (observed.Exit, observed.Error));
        Assert.Matches(@"udp\s+rpc\.statd\s+/usr/sbin/rpc\.statd\s+\S+\s+12\s+12\s", observed.Output);
        Assert.Matches(@"udp\s+squatter\s+.*rpc\.statd", observed.Output);

        // The registry answer and, under it, what runs there.
        var port = await CliAsync(_server.ReaderToken, "port", "776");
        Assert.Equal(0, port.Exit);
        Assert.Contains("wpages", port.Output);
        Assert.Matches(@"udp\s+squatter", port.Output);

        var json = await CliAsync(_server.ReaderToken, "observed", "776", "--json");
        using var document = System.Text.Json.JsonDocument.Parse(json.Output);
        var verdicts = document.RootElement.GetProperty("verdicts").EnumerateArray().ToList();
        Assert.Contains(verdicts, v => v.GetProperty("verdict").GetString() == "squatter" && v.GetProperty("transport").GetString() == "udp");

        var squatters = await SightingsServer.EventuallyAsync(() => CliAsync(_server.ReaderToken, "discrepancies", "--verdict", "squatter", "--range", "0-1023"),
            r => r.Output.Contains("776"));
        Assert.Equal(0, squatters.Exit);
        var rows = squatters.Output.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d+\s+(tcp|udp|sctp|dccp)\s")).ToList();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Matches(@"^\d+\s+\S+\s+squatter\s", r));
        Assert.Contains(rows, r => r.StartsWith("776 ", StringComparison.Ordinal) && r.Contains("rpc.statd"));

        var bad = await CliAsync(_server.ReaderToken, "discrepancies", "--verdict", "odd");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("verdict must be one of", bad.Error);
    }

    [Fact]
    public async Task The_cli_issues_lists_and_revokes_tokens()
    {
        var issued = await CliAsync(_server.Server.AdminToken, "token", "issue", "cli reader", "--role", "reader", "--json");
        Assert.Equal((0, ""), (issued.Exit, issued.Error));
        using var document = System.Text.Json.JsonDocument.Parse(issued.Output);
        var id = document.RootElement.GetProperty("id").GetString()!;
        var secret = document.RootElement.GetProperty("token").GetString()!;

        Assert.Equal(0, (await CliAsync(secret, "observed", "22")).Exit);
        var list = await CliAsync(_server.Server.AdminToken, "token", "list");
        Assert.Matches($@"{id}\s+reader\s+cli reader", list.Output);
        Assert.DoesNotContain(secret, list.Output);

        // A reader may not manage tokens.
        var denied = await CliAsync(secret, "token", "list");
        Assert.Equal(1, denied.Exit);
        Assert.Contains("PermissionDenied", denied.Error);

        Assert.Equal(0, (await CliAsync(_server.Server.AdminToken, "token", "revoke", id)).Exit);
        var refused = await CliAsync(secret, "observed", "22");
        Assert.Equal(1, refused.Exit);
        Assert.Contains("Unauthenticated", refused.Error);
    }
}
