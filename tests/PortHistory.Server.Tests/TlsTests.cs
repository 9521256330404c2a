using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>With a certificate configured on the Kestrel endpoint, the gateway speaks gRPC over TLS, and only TLS.</summary>
[Collection(ServerCollection.Name)]
public sealed class TlsTests(RegistryServerFixture fixture)
{
    [Fact]
    public async Task With_a_certificate_the_gateway_serves_grpc_over_tls_to_the_cli_and_the_agent_when_they_trust_it_and_refuses_cleartext()
    {
        using var certificate = SelfSigned();
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("tls"), certificate: certificate);
        await server.StartAsync();

        var import = await EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf("rfc1340.txt"));
        var answer = await new PortRegistry.PortRegistryClient(server.Channel).GetPortAsync(new GetPortRequest { Port = 776, Transport = Transport.Tcp });

        Assert.Equal(ImportStage.Committed, import[^1].Stage);
        Assert.Equal("wpages", Assert.Single(Assert.Single(answer.Transports).Records).ServiceName);
        Assert.True(server.CertificatesPresented > 0);

        using var cleartext = GrpcChannel.ForAddress($"http://127.0.0.1:{server.GrpcPort}");
        var refused = await RegistryServerFixture.FailsAsync(() => new Grpc.Health.V1.Health.HealthClient(cleartext).CheckAsync(new Grpc.Health.V1.HealthCheckRequest()).ResponseAsync);
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });

        // The CLI and the agent, each as its own process, trust what the machine's OpenSSL trust settings say;
        // SSL_CERT_FILE adds a private CA.
        var pem = Path.Combine(Path.GetTempPath(), $"porthistory-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem());
        var trustIt = new Dictionary<string, string> { ["SSL_CERT_FILE"] = pem };
        string[] port776 = ["--server", server.Address, "--token", server.AdminToken, "port", "776", "--transport", "tcp", "--json"];
        try
        {
            var trusted = await RunAsync("PortHistory.Cli", "porthistory.dll", port776, trustIt);
            Assert.True(trusted.Exit == 0, trusted.Error);
            Assert.Contains("wpages", trusted.Output);

            var untrusted = await RunAsync("PortHistory.Cli", "porthistory.dll", port776, []);
            Assert.NotEqual(0, untrusted.Exit);
            Assert.DoesNotContain("wpages", untrusted.Output);
            Assert.Contains("certificate", untrusted.Error, StringComparison.OrdinalIgnoreCase);

            using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var listening = (uint)((IPEndPoint)listener.LocalEndpoint).Port;
            var agentToken = await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "tls agent", Role = Role.Agent });
            var agent = await RunAsync("PortHistory.Agent", "porthistory-agent.dll",
                ["--server", server.Address, "--token", agentToken.Token, "--host-ref", "tls-host", "--once"], trustIt);
            Assert.True(agent.Exit == 0, agent.Output + agent.Error);
            var observed = await SightingsServer.EventuallyAsync(
                () => new Contracts.V1.Observations.ObservationsClient(server.Channel).GetObservedAsync(new GetObservedRequest { Port = listening, Transport = Transport.Tcp }).ResponseAsync,
                r => r.Observed.Transports.Count == 1);
            Assert.Equal(["tls-host"], Assert.Single(observed.Observed.Transports[0].Processes).HostRefs);
        }
        finally
        {
            File.Delete(pem);
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=porthistory test server", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A tool as its own process, from its own build output.</summary>
    private static async Task<(int Exit, string Output, string Error)> RunAsync(string project, string assembly, string[] arguments,
        Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerProcess.BuiltAssembly(project, assembly));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment.Remove("SSL_CERT_FILE");
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
