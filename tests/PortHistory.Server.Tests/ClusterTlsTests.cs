using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// With cluster TLS on, silos that hold certificates of the cluster's authority form one cluster; a process without
/// one (or with one from another authority) can neither join it nor call a grain through a silo's gateway.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class ClusterTlsTests(PostgresFixture fixture)
{
    private const string ClusterId = "tls-cluster";

    [Fact]
    public async Task Only_holders_of_a_cluster_certificate_join_or_call_grains()
    {
        var connectionString = fixture.Postgres.ConnectionString("clustertls");
        // The certificates as the operator creates them for the Secret.
        using var stranger = new ClusterCertificates("someone else's authority");
        var (tls, member) = await ClusterCertificates.FromDeployScriptAsync(Path.Combine(stranger.Directory, "cluster"));
        var gatewayPort = PostgresServer.FreePort();

        await using var first = new ServerProcess(connectionString, Settings(tls, ("PortHistory__Silo__GatewayPort", gatewayPort)));
        await first.StartAsync();
        await using var second = new ServerProcess(connectionString, Settings(tls));
        await second.StartAsync();
        Assert.Equal(2, await ActiveSilosAsync(connectionString));

        // A client with the cluster's certificate calls a grain: the gateway and the settings work.
        Assert.NotNull(await CallPortGrainAsync(gatewayPort, member));

        // Without a certificate, or with another authority's, nothing gets through (given 5 s: a member needs far less).
        await Assert.ThrowsAnyAsync<Exception>(() => CallPortGrainAsync(gatewayPort, certificate: null, TimeSpan.FromSeconds(5)));
        var (foreign, _, _) = stranger.Issue("intruder");
        await Assert.ThrowsAnyAsync<Exception>(() => CallPortGrainAsync(gatewayPort, foreign, TimeSpan.FromSeconds(5)));

        // A silo without a certificate (started with the lab flag, else it would refuse to start) cannot join: it never
        // becomes active, and the two members stay as they are.
        await using var outsider = new ServerProcess(connectionString, Settings(new Dictionary<string, string> { ["PortHistory__Silo__AllowInsecureCluster"] = "true" }));
        await Assert.ThrowsAnyAsync<Exception>(() => outsider.StartAsync(TimeSpan.FromSeconds(12)));
        Assert.Equal(2, await ActiveSilosAsync(connectionString));
    }

    [Fact]
    public async Task A_multi_silo_cluster_without_tls_refuses_to_start_unless_the_lab_flag_is_set()
    {
        await using var insecure = new ServerProcess(fixture.Postgres.ConnectionString("clusterplain"), Settings([]));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => insecure.StartAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains("the server exited", refused.Message);
        Assert.Contains("PortHistory:Silo:AllowInsecureCluster=true", insecure.Log);
    }

    [Fact]
    public async Task The_orleans_gateway_port_is_not_opened_unless_configured()
    {
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("nogateway"));
        await server.StartAsync();

        // What the process listens on: gRPC, HTTP/JSON, metrics, and the silo port; no gateway.
        var known = new[] { server.Address, server.HttpAddress, server.MetricsAddress }.Select(a => new Uri(a).Port).ToHashSet();
        var others = ListeningPorts(server.ProcessId!.Value).Where(p => !known.Contains(p)).ToList();
        Assert.True(others.Count == 1, $"listening besides the endpoints: {string.Join(", ", others)} (one silo port expected)");
    }

    /// <summary>The TCP ports a process listens on, from /proc (its socket inodes matched against the listening sockets).</summary>
    private static IReadOnlyList<int> ListeningPorts(int pid)
    {
        var inodes = Directory.GetFiles($"/proc/{pid}/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
        }).Where(t => t?.StartsWith("socket:[", StringComparison.Ordinal) == true).Select(t => t![8..^1]).ToHashSet();
        return [.. new[] { "/proc/net/tcp", "/proc/net/tcp6" }.SelectMany(File.ReadLines).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 9 && f[0] != "sl" && f[3] == "0A" && inodes.Contains(f[9]))
            .Select(f => int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)).Distinct()];
    }

    private static Dictionary<string, string> Settings(Dictionary<string, string> tls, params (string Key, int Value)[] more)
    {
        var settings = new Dictionary<string, string>(tls)
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = ClusterId,
        };
        foreach (var (key, value) in more) settings[key] = value.ToString(CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>An Orleans client of its own, as any process in the network could start, calling port 776's grain.</summary>
    private static async Task<object> CallPortGrainAsync(int gatewayPort, X509Certificate2? certificate, TimeSpan? within = null)
    {
        using var host = new HostBuilder().UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, "porthistory"));
            if (certificate is not null) client.UseTls(certificate, o => o.AllowAnyRemoteCertificate());
        }).Build();
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        try
        {
            var grains = host.Services.GetRequiredService<IClusterClient>();
            var answer = await grains.GetGrain<IPortGrain>(776).GetPortAsync(new PortQuery(Transport.Unspecified, null)).WaitAsync(timeout.Token);
            return answer.Value;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<int> ActiveSilosAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // Status 3 is SiloStatus.Active.
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = '{ClusterId}' AND status = 3", connection);
        return (int)(long)(await command.ExecuteScalarAsync())!;
    }
}
