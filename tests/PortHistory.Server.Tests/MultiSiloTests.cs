using Google.Protobuf.WellKnownTypes;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// Two server processes on one database with ADO.NET clustering form one Orleans cluster: each port grain lives in one
/// of them, either gateway answers for every port, an import or a sighting through one is seen through the other, a
/// host's grain lives where its agent reports, and when one silo stops the other serves everything.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MultiSiloTests(RegistryServerFixture fixture)
{
    private static readonly Dictionary<string, string> Clustered = new()
    {
        ["PortHistory__Silo__Clustering"] = "AdoNet",
        ["PortHistory__Silo__ClusterId"] = "two-silos",
        // Cluster TLS has tests of its own; these silos share loopback only.
        ["PortHistory__Silo__AllowInsecureCluster"] = "true",
    };

    [Fact]
    public async Task Two_silos_serve_one_history_and_one_fleet()
    {
        var connectionString = fixture.Postgres.ConnectionString("multisilo");
        await using var first = new ServerProcess(connectionString, Clustered);
        await first.StartAsync();
        await using var second = new ServerProcess(connectionString, Clustered);
        await second.StartAsync();

        Assert.Equal(2, await ActiveSilosAsync(connectionString));

        // An edition imported through the first is answered by the second (RFC 1340: its ports' grains are staged on
        // both silos as an IANA file's would be, a few hundred of them instead of 49,152).
        await EditionUpload.ImportAsync(first.Channel, RegistryData.PathOf("rfc1340.txt"));
        var viaSecond = new PortRegistry.PortRegistryClient(second.Channel);
        await SightingsServer.EventuallyAsync(() => viaSecond.ListEditionsAsync(new ListEditionsRequest()).ResponseAsync, r => r.Editions.Count == 1);

        // Every port's answer is the same through either gateway, wherever its grain lives.
        var viaFirst = new PortRegistry.PortRegistryClient(first.Channel);
        foreach (var port in new uint[] { 2, 22, 771, 776, 5432, 49152, 65535 })
        {
            // Each silo learns of the committed edition by notification: ask until both answer from it.
            static bool Current(GetPortResponse r) => r.Edition?.Id == "rfc1340";
            var a = await SightingsServer.EventuallyAsync(() => viaFirst.GetPortAsync(new GetPortRequest { Port = port }).ResponseAsync, Current);
            var b = await SightingsServer.EventuallyAsync(() => viaSecond.GetPortAsync(new GetPortRequest { Port = port }).ResponseAsync, Current);
            Assert.Equal(a, b);
        }

        // Sightings reported through the second are aggregated by the grains, visible through the first.
        var agentToken = (await new AccessAdmin.AccessAdminClient(first.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "agent", Role = Role.Agent })).Token;
        using var agent = second.ChannelWith(() => agentToken);
        var sightings = Enumerable.Range(1, 12).Select(h => Sighting($"host-{h}", 776, Transport.Udp, "rpc.statd"))
            .Concat(Enumerable.Range(1, 12).Select(h => Sighting($"host-{h}", 22, Transport.Tcp, "sshd")));
        var result = await new Sightings.SightingsClient(agent).ReportBatchAsync(Batch(sightings));
        Assert.Equal(24u, result.Accepted);

        var observedViaFirst = new ObservationsService.ObservationsClient(first.Channel);
        foreach (var (port, transport) in new[] { (776u, Transport.Udp), (22u, Transport.Tcp) })
        {
            var observed = await SightingsServer.EventuallyAsync(
                () => observedViaFirst.GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport }).ResponseAsync,
                r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Sightings == 12);
            Assert.Equal(12ul, observed.Observed.Transports[0].DistinctHosts);
        }

        // Hosts reporting through the second silo have their grains there, so their heartbeats are answered by that
        // silo's pulse board without a grain call (placed without regard to the reporting silo, about half would take one).
        using var scrape = PrometheusScrape.Client(second);
        var scraped = await PrometheusScrape.ReadAsync(scrape);
        var reporting = new Sightings.SightingsClient(agent);
        var epoch = new ReportEpoch { Id = 0x2_5110, StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)) };
        var sshd = new HostSocket { Port = 40601, Transport = Transport.Tcp, BindScope = BindScope.Wildcard, ProcessName = "sshd", Executable = "/usr/sbin/sshd" };
        var hosts = Enumerable.Range(1, 8).Select(h => $"placed-{h}").ToList();
        foreach (var host in hosts) Assert.Equal(HostReportOutcome.Applied, (await reporting.ReportHostAsync(HostReports.Snapshot(host, epoch, 1, [sshd]))).Outcome);
        foreach (var host in hosts) Assert.Equal(HostReportOutcome.Applied, (await reporting.ReportHostAsync(HostReports.Heartbeat(host, epoch, 1, [sshd]))).Outcome);
        Assert.Equal(hosts.Count, PrometheusScrape.Delta(await PrometheusScrape.ReadAsync(scrape), scraped, "porthistory_hosts_heartbeats_in_memory_total"));

        // The first silo leaves; the second takes over its grains, with their history and their observations.
        await first.StopAsync();
        await SightingsServer.EventuallyAsync(() => ActiveSilosAsync(connectionString), n => n == 1);
        var observedViaSecond = new ObservationsService.ObservationsClient(second.Channel);
        foreach (var (port, transport) in new[] { (776u, Transport.Udp), (22u, Transport.Tcp) })
        {
            // Until the second silo has seen the first leave, a call to a grain that lived there is Unavailable.
            var observed = await SightingsServer.EventuallyAsync(
                () => observedViaSecond.GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport }).ResponseAsync,
                r => r.Observed.Transports.Count == 1);
            Assert.Equal(12ul, observed.Observed.Transports[0].Sightings);
        }

        var after = await viaSecond.GetPortAsync(new GetPortRequest { Port = 776 });
        Assert.Equal("wpages", after.Transports.Single(t => t.Transport == Transport.Udp).Records[0].ServiceName);
        Assert.Equal(VerdictKind.Squatter, after.Verdicts.Single(v => v.Transport == Transport.Udp).Kind);
    }

    [Fact]
    public async Task Sightings_acknowledged_by_a_silo_that_dies_before_delivering_reach_a_grain_on_the_survivor()
    {
        var connectionString = fixture.Postgres.ConnectionString("orphans");
        var cluster = new Dictionary<string, string>(Clustered)
        {
            ["PortHistory__Silo__ClusterId"] = "orphans",
            ["PortHistory__Sightings__WriterTimeout"] = "00:00:03",
            ["PortHistory__Sightings__OrphanSweepInterval"] = "00:00:01",
        };
        const uint port = 30200;

        // The survivor starts alone, so the port's grain lives there, and has applied a first sighting.
        await using var survivor = new ServerProcess(connectionString, cluster);
        await survivor.StartAsync();
        var agentToken = (await new AccessAdmin.AccessAdminClient(survivor.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "agent", Role = Role.Agent })).Token;
        using (var agent = survivor.ChannelWith(() => agentToken))
        {
            Assert.Equal(1u, (await new Sightings.SightingsClient(agent).ReportBatchAsync(Batch([Sighting("orphan-0", port, Transport.Tcp, "daemon")]))).Accepted);
        }

        var observed = new ObservationsService.ObservationsClient(survivor.Channel);
        Task<GetObservedResponse> ReadAsync() => observed.GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp }).ResponseAsync;
        await SightingsServer.EventuallyAsync(ReadAsync, r => r.Observed.Transports.Count == 1);

        // A second process journals and acknowledges, would deliver only an hour later, and is killed. It runs as a
        // cluster of its own: in a shared cluster, the survivor may re-create the grain when the dead silo held its
        // directory entry (and the activation reads the journal anyway); here the grain stays as it is, which is the
        // case only the sweep covers.
        var doomedSettings = new Dictionary<string, string>(cluster)
        {
            ["PortHistory__Silo__ClusterId"] = "orphans-doomed",
            ["PortHistory__Sightings__DispatchWindow"] = "01:00:00",
        };
        await using (var doomed = new ServerProcess(connectionString, doomedSettings))
        {
            await doomed.StartAsync();
            using var agent = doomed.ChannelWith(() => agentToken);
            var five = Enumerable.Range(1, 5).Select(i => Sighting($"orphan-{i}", port, Transport.Tcp, "daemon"));
            Assert.Equal(5u, (await new Sightings.SightingsClient(agent).ReportBatchAsync(Batch(five))).Accepted);
            await doomed.KillAsync();
        }

        // The survivor finds the dead writer's rows and its active grain reads them.
        var all = await SightingsServer.EventuallyAsync(ReadAsync, r => r.Observed.Transports[0].Sightings >= 6);
        Assert.Equal((6ul, 6ul), (all.Observed.Transports[0].Sightings, all.Observed.Transports[0].DistinctHosts));
    }

    [Fact]
    public async Task Silos_starting_together_on_an_empty_database_make_one_first_admin_token_whose_secret_is_in_a_private_file_not_the_log()
    {
        var connectionString = fixture.Postgres.ConnectionString("bootstrap");
        // No token file configured: the first admin token is created only when there is none, its secret written to a
        // file in the server user's data directory (here one of each silo's own).
        var dataHomes = new[] { Directory.CreateTempSubdirectory("porthistory-data-a-"), Directory.CreateTempSubdirectory("porthistory-data-b-") };
        try
        {
            ServerProcess Silo(DirectoryInfo home) => new(connectionString, new Dictionary<string, string>(Clustered)
            {
                ["PortHistory__Silo__ClusterId"] = "bootstrap",
                ["PortHistory__Auth__BootstrapTokenFile"] = "",
                ["XDG_DATA_HOME"] = home.FullName,
            });
            await using var first = Silo(dataHomes[0]);
            await using var second = Silo(dataHomes[1]);
            await Task.WhenAll(first.StartAsync(), second.StartAsync());

            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var count = new NpgsqlCommand("SELECT count(*) FROM access_tokens WHERE role = 3", connection);
                Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
            }

            var files = dataHomes.Select(h => Path.Combine(h.FullName, "porthistory", "bootstrap-admin-token")).Where(File.Exists).ToList();
            var file = Assert.Single(files);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var token = (await File.ReadAllTextAsync(file)).Trim();
            var logs = first.Log + "\n" + second.Log;
            Assert.Contains(file, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(token, logs, StringComparison.Ordinal);
            using var channel = second.ChannelWith(() => token);
            var tokens = await new AccessAdmin.AccessAdminClient(channel).ListTokensAsync(new ListTokensRequest());
            Assert.Equal("bootstrap admin", Assert.Single(tokens.Tokens).Name);
        }
        finally
        {
            foreach (var home in dataHomes) home.Delete(recursive: true);
        }
    }

    private static async Task<int> ActiveSilosAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // Status 3 is SiloStatus.Active.
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = 'two-silos' AND status = 3", connection);
        return (int)(long)(await command.ExecuteScalarAsync())!;
    }
}
