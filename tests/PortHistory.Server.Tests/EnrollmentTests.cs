// Over 250 lines: the cases share one server (starting it is most of their cost); another class would start another.
using Grpc.Core;
using PortHistory.Agent;
using PortHistory.Contracts.V1;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// Per-host credentials: an enrollment secret gets each host a credential of its own, which reports for that host only,
/// is listed with its host, revoked on its own, and rotated (the old one works until the new one is first used).
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class EnrollmentTests(PostgresFixture fixture)
{
    /// <summary>Enrollments one secret may make at once on the test server: every test stays below it, save the one that meets it.</summary>
    private const int EnrollmentBurst = 8;

    private Task<SightingsServer> ServerAsync() => SharedServerAsync(fixture);

    /// <summary>The collection's enrollment server (shared with <see cref="CredentialLifecycleTests"/>).</summary>
    internal static Task<SightingsServer> SharedServerAsync(PostgresFixture fixture) => fixture.SharedAsync("enrollment", () => SightingsServer.StartAsync(fixture.Postgres, "enrollment",
        new Dictionary<string, string>
        {
            ["PortHistory__RateLimit__EnrollmentBurst"] = EnrollmentBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PortHistory__RateLimit__EnrollmentsPerMinute"] = "1",
        }));

    [Fact]
    public async Task Enrolled_hosts_report_for_themselves_only_and_made_up_hosts_cannot_lift_a_process_over_the_privacy_floor()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "privacy");
        const uint port = 31501;
        var hosts = new[] { $"enr-a-{Guid.NewGuid():N}", $"enr-b-{Guid.NewGuid():N}", $"enr-c-{Guid.NewGuid():N}" };
        var a = await EnrollAsync(server, secret, hosts[0]);
        var b = await EnrollAsync(server, secret, hosts[1]);

        Assert.Equal(1u, await ReportAsync(server, a.Credential, Sighting(hosts[0], port, Transport.Tcp, "enrolld")));
        Assert.Equal(1u, await ReportAsync(server, b.Credential, Sighting(hosts[1], port, Transport.Tcp, "enrolld")));
        // Host a posing as three more hosts, alone or next to a sighting of its own: refused whole.
        foreach (var forged in new[]
                 {
                     new[] { Sighting("forged-1", port, Transport.Tcp, "enrolld") },
                     [Sighting(hosts[0], port, Transport.Tcp, "enrolld"), Sighting("forged-2", port, Transport.Tcp, "enrolld"), Sighting("forged-3", port, Transport.Tcp, "enrolld")],
                 })
        {
            var refused = await RegistryServerFixture.FailsAsync(() => ReportAsync(server, a.Credential, forged));
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.StartsWith("host_ref: sighting ", refused.Status.Detail, StringComparison.Ordinal);
            Assert.Contains(hosts[0], refused.Status.Detail, StringComparison.Ordinal);
        }

        // Two hosts: below the floor of three, the process is withheld from readers.
        var readers = new ObservationsService.ObservationsClient(server.Reader);
        var twoHosts = await SightingsServer.EventuallyAsync(
            () => readers.GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].DistinctHosts == 2);
        Assert.Empty(twoHosts.Observed.Transports[0].Processes);
        Assert.Equal(1u, twoHosts.Observed.Transports[0].WithheldProcesses);

        // A third enrolled host is what it takes.
        var c = await EnrollAsync(server, secret, hosts[2]);
        Assert.Equal(1u, await ReportAsync(server, c.Credential, Sighting(hosts[2], port, Transport.Tcp, "enrolld")));
        var threeHosts = await SightingsServer.EventuallyAsync(
            () => readers.GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp }).ResponseAsync,
            r => r.Observed.Transports.Count == 1 && r.Observed.Transports[0].Processes.Count == 1);
        Assert.Equal(("enrolld", 3ul), (threeHosts.Observed.Transports[0].Processes[0].ProcessName, threeHosts.Observed.Transports[0].DistinctHosts));
        var admin = await new ObservationsService.ObservationsClient(server.Admin).GetObservedAsync(new GetObservedRequest { Port = port, Transport = Transport.Tcp });
        Assert.Equal(hosts.Order(), admin.Observed.Transports[0].Processes[0].HostRefs.Order());
    }

    [Fact]
    public async Task Credentials_are_listed_with_their_host_and_revoking_one_host_leaves_the_others_reporting()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "revoke");
        var (first, second) = ($"enr-rev-1-{Guid.NewGuid():N}", $"enr-rev-2-{Guid.NewGuid():N}");
        var one = await EnrollAsync(server, secret, first);
        var two = await EnrollAsync(server, secret, second);
        var access = new AccessAdmin.AccessAdminClient(server.Admin);

        var listed = (await access.ListTokensAsync(new ListTokensRequest())).Tokens;
        Assert.Equal((Role.Agent, first), listed.Where(t => t.TokenId == one.TokenId).Select(t => (t.Role, t.HostRef)).Single());
        Assert.Equal((Role.Agent, second), listed.Where(t => t.TokenId == two.TokenId).Select(t => (t.Role, t.HostRef)).Single());
        Assert.Equal("", listed.Single(t => t.TokenId == secret.Info.TokenId).HostRef);

        await access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = one.TokenId });

        var refused = await RegistryServerFixture.FailsAsync(() => ReportAsync(server, one.Credential, Sighting(first, 31502, Transport.Tcp, "x")));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(1u, await ReportAsync(server, two.Credential, Sighting(second, 31502, Transport.Tcp, "x")));

        // Retiring a host revokes its credentials: the host's agent can report no more.
        var retired = await new Hosts.HostsClient(server.Admin).RetireHostAsync(new RetireHostRequest { HostRef = second, Reason = "decommissioned" });
        Assert.Equal((HostLiveness.Retired, 1u), (retired.Host.State, retired.RevokedCredentials));
        var afterRetire = await RegistryServerFixture.FailsAsync(() => ReportAsync(server, two.Credential, Sighting(second, 31502, Transport.Tcp, "x")));
        Assert.Equal(StatusCode.Unauthenticated, afterRetire.StatusCode);
    }

    [Fact]
    public async Task Re_enrolling_a_host_with_a_live_credential_is_refused_until_an_admin_revokes_the_host()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "re-enroll");
        var host = $"enr-again-{Guid.NewGuid():N}";
        var before = await EnrollAsync(server, secret, host);
        Assert.Equal(1u, await ReportAsync(server, before.Credential, Sighting(host, 31503, Transport.Tcp, "x")));

        // Whoever holds the enrollment secret cannot cut the running host off by enrolling its host_ref.
        var refused = await RegistryServerFixture.FailsAsync(() => EnrollAsync(server, secret, host));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"revoke --host {host}", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1u, await ReportAsync(server, before.Credential, Sighting(host, 31503, Transport.Tcp, "x")));

        // An admin revokes the host (as porthistory token revoke --host does), and it may enroll again.
        var (exit, output, _) = await RunCliAsync(server, "token", "revoke", "--host", host, "--json");
        Assert.True(exit == 0, output);
        Assert.Contains(before.TokenId, output, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unauthenticated, (await RegistryServerFixture.FailsAsync(() => ReportAsync(server, before.Credential, Sighting(host, 31503, Transport.Tcp, "x")))).StatusCode);
        var after = await EnrollAsync(server, secret, host);
        Assert.Equal(1u, await ReportAsync(server, after.Credential, Sighting(host, 31503, Transport.Tcp, "y")));
    }

    [Fact]
    public async Task A_rotated_credential_replaces_the_old_one_once_it_is_first_used_and_one_rotation_at_a_time_is_pending()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "rotate");
        var host = $"enr-rot-{Guid.NewGuid():N}";
        var old = await EnrollAsync(server, secret, host);
        using var oldChannel = server.Server.ChannelWith(() => old.Credential);
        var enrollment = new Enrollment.EnrollmentClient(oldChannel);

        var rotated = await enrollment.RotateCredentialAsync(new RotateCredentialRequest());
        Assert.Equal(host, rotated.HostRef);
        Assert.NotEqual(old.Credential, rotated.Credential);
        // A second rotation while the first is unused is refused, naming it: a stolen credential cannot mint more.
        var second = await RegistryServerFixture.FailsAsync(() => enrollment.RotateCredentialAsync(new RotateCredentialRequest()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, second.StatusCode);
        Assert.Contains(rotated.TokenId, second.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1u, await ReportAsync(server, old.Credential, Sighting(host, 31504, Transport.Tcp, "x")));

        // The first use of the new one revokes every other credential of the host.
        Assert.Equal(1u, await ReportAsync(server, rotated.Credential, Sighting(host, 31504, Transport.Tcp, "y")));
        Assert.Equal(StatusCode.Unauthenticated,
            (await RegistryServerFixture.FailsAsync(() => ReportAsync(server, old.Credential, Sighting(host, 31504, Transport.Tcp, "x")))).StatusCode);
        Assert.Equal(1u, await ReportAsync(server, rotated.Credential, Sighting(host, 31504, Transport.Tcp, "z")));
        var tokens = (await new AccessAdmin.AccessAdminClient(server.Admin).ListTokensAsync(new ListTokensRequest())).Tokens.Where(t => t.HostRef == host).ToList();
        Assert.Equal([rotated.TokenId], tokens.Where(t => t.RevokedAt is null).Select(t => t.TokenId));
        // A revoked one cannot rotate.
        Assert.Equal(StatusCode.Unauthenticated, (await RegistryServerFixture.FailsAsync(() =>
            enrollment.RotateCredentialAsync(new RotateCredentialRequest()).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task Each_kind_of_token_may_do_only_its_own_part()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "roles");
        var host = $"enr-roles-{Guid.NewGuid():N}";
        using var secretChannel = server.Server.ChannelWith(() => secret.Token);

        // An enrollment secret reports nothing, reads nothing, administers nothing, rotates nothing.
        foreach (var call in new Func<Task>[]
                 {
                     () => new Sightings.SightingsClient(secretChannel).ReportBatchAsync(Batch([Sighting(host, 31505, Transport.Tcp, "x")])).ResponseAsync,
                     () => new AccessAdmin.AccessAdminClient(secretChannel).ListTokensAsync(new ListTokensRequest()).ResponseAsync,
                     () => new ObservationsService.ObservationsClient(secretChannel).GetObservedAsync(new GetObservedRequest { Port = 31505 }).ResponseAsync,
                     () => new Enrollment.EnrollmentClient(secretChannel).RotateCredentialAsync(new RotateCredentialRequest()).ResponseAsync,
                 })
        {
            var refused = await RegistryServerFixture.FailsAsync(call);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.StartsWith("authorization: ", refused.Status.Detail, StringComparison.Ordinal);
        }

        // A host's credential cannot enroll (other hosts) nor read.
        var credential = await EnrollAsync(server, secret, host);
        using var credentialChannel = server.Server.ChannelWith(() => credential.Credential);
        Assert.Equal(StatusCode.PermissionDenied, (await RegistryServerFixture.FailsAsync(() =>
            new Enrollment.EnrollmentClient(credentialChannel).EnrollAsync(new EnrollRequest { HostRef = "someone-else" }).ResponseAsync)).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await RegistryServerFixture.FailsAsync(() =>
            new AccessAdmin.AccessAdminClient(credentialChannel).ListTokensAsync(new ListTokensRequest()).ResponseAsync)).StatusCode);

        // A shared agent token keeps reporting for any host, and has nothing to rotate.
        var shared = new Sightings.SightingsClient(server.Agent);
        Assert.Equal(2u, (await shared.ReportBatchAsync(Batch([Sighting("shared-1", 31505, Transport.Tcp, "x"), Sighting("shared-2", 31505, Transport.Tcp, "x")]))).Accepted);
        Assert.Equal(StatusCode.FailedPrecondition, (await RegistryServerFixture.FailsAsync(() =>
            new Enrollment.EnrollmentClient(server.Agent).RotateCredentialAsync(new RotateCredentialRequest()).ResponseAsync)).StatusCode);

        // host_ref is checked as a sighting's is.
        var enrollment = new Enrollment.EnrollmentClient(secretChannel);
        foreach (var bad in new[] { "", "   ", new string('h', 129), "host\u202Eevil", "nul\0" })
        {
            var invalid = await RegistryServerFixture.FailsAsync(() => enrollment.EnrollAsync(new EnrollRequest { HostRef = bad }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
            Assert.StartsWith("host_ref: ", invalid.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_secret_beyond_its_enrollment_burst_is_told_to_retry_later_and_other_secrets_are_not()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "burst");
        for (var i = 0; i < EnrollmentBurst; i++) await EnrollAsync(server, secret, $"enr-burst-{i}-{Guid.NewGuid():N}");

        var limited = await RegistryServerFixture.FailsAsync(() => EnrollAsync(server, secret, $"enr-burst-over-{Guid.NewGuid():N}"));

        Assert.Equal(StatusCode.ResourceExhausted, limited.StatusCode);
        Assert.InRange(int.Parse(limited.Trailers.GetValue("retry-after-ms")!, System.Globalization.CultureInfo.InvariantCulture), 1, 60_000);
        var other = await IssueSecretAsync(server, "burst other");
        Assert.NotEmpty((await EnrollAsync(server, other, $"enr-burst-other-{Guid.NewGuid():N}")).Credential);
    }

    [Fact]
    public async Task The_agent_enrolls_at_start_reports_with_its_credential_and_rotates_it()
    {
        var server = await ServerAsync();
        var secret = await IssueSecretAsync(server, "agent");
        var directory = Directory.CreateTempSubdirectory("porthistory-enroll-");
        try
        {
            var secretFile = Path.Combine(directory.FullName, "enroll-secret");
            await File.WriteAllTextAsync(secretFile, secret.Token + "\n");
            var credentialFile = Path.Combine(directory.FullName, "state", "credential");
            var host = $"enr-agent-{Guid.NewGuid():N}";

            var (exit, output) = await RunAgentAsync("--server", server.Server.Address, "--enroll-secret-file", secretFile, "--credential-file", credentialFile,
                "--host-ref", host, "--once");

            Assert.True(exit == AgentApp.Ok, output);
            Assert.Contains($"enrolled host {host}", output, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentialFile));
            var first = (await File.ReadAllTextAsync(credentialFile)).Trim();
            var tokens = (await new AccessAdmin.AccessAdminClient(server.Admin).ListTokensAsync(new ListTokensRequest())).Tokens;
            var enrolled = Assert.Single(tokens, t => t.HostRef == host);
            Assert.Null(enrolled.RevokedAt);

            // Started again with the credential stored: no new enrollment.
            (exit, output) = await RunAgentAsync("--server", server.Server.Address, "--enroll-secret-file", secretFile, "--credential-file", credentialFile,
                "--host-ref", host, "--once");
            Assert.True(exit == AgentApp.Ok, output);
            Assert.DoesNotContain("enrolled", output, StringComparison.Ordinal);

            (exit, output) = await RunAgentAsync("rotate-credential", "--server", server.Server.Address, "--credential-file", credentialFile);
            Assert.True(exit == AgentApp.Ok, output);
            var second = (await File.ReadAllTextAsync(credentialFile)).Trim();
            Assert.NotEqual(first, second);
            Assert.Equal(1u, await ReportAsync(server, second, Sighting(host, 31506, Transport.Tcp, "x")));
            Assert.Equal(StatusCode.Unauthenticated, (await RegistryServerFixture.FailsAsync(() => ReportAsync(server, first, Sighting(host, 31506, Transport.Tcp, "x")))).StatusCode);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Runs the agent (scans with a spool of their own, as a host would have; subcommands as given).</summary>
    private static async Task<(int Exit, string Output)> RunAgentAsync(params string[] args)
    {
        using var output = new StringWriter();
        var spool = Directory.CreateTempSubdirectory("porthistory-agent-spool-");
        try
        {
            var exit = await AgentApp.RunAsync(args[0].StartsWith("--", StringComparison.Ordinal) ? [.. args, "--spool-dir", spool.FullName] : args, output, output, CancellationToken.None);
            return (exit, output.ToString());
        }
        finally
        {
            spool.Delete(recursive: true);
        }
    }

    internal static async Task<(int Exit, string Output, string Error)> RunCliAsync(SightingsServer server, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await PortHistory.Cli.CliApp.RunAsync(["--server", server.Server.Address, "--token", server.Server.AdminToken, .. args], output, error);
        return (exit, output + error.ToString(), error.ToString());
    }

    internal static async Task<IssueTokenResponse> IssueSecretAsync(SightingsServer server, string name) =>
        await new AccessAdmin.AccessAdminClient(server.Admin).IssueTokenAsync(new IssueTokenRequest { Name = $"enrollment secret {name}", Role = Role.Enroll });

    internal static async Task<EnrollResponse> EnrollAsync(SightingsServer server, IssueTokenResponse secret, string hostRef)
    {
        using var channel = server.Server.ChannelWith(() => secret.Token);
        var response = await new Enrollment.EnrollmentClient(channel).EnrollAsync(new EnrollRequest { HostRef = hostRef });
        Assert.Equal(hostRef, response.HostRef);
        return response;
    }

    internal static async Task<uint> ReportAsync(SightingsServer server, string credential, params Sighting[] sightings)
    {
        using var channel = server.Server.ChannelWith(() => credential);
        var result = await new Sightings.SightingsClient(channel).ReportBatchAsync(Batch(sightings));
        Assert.Equal("", result.Error);
        return result.Accepted;
    }
}
