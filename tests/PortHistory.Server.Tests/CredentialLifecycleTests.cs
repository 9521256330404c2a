using Grpc.Core;
using PortHistory.Contracts.V1;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// A per-host credential's life past enrollment: revoking a stolen one takes its rotations with it, a new host may
/// wait for an admin's approval, and revoked credentials are deleted after the retention.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class CredentialLifecycleTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    [Fact]
    public async Task Revoking_a_stolen_credential_revokes_the_rotations_issued_from_it_used_or_not()
    {
        var server = await EnrollmentTests.SharedServerAsync(fixture);
        var secret = await EnrollmentTests.IssueSecretAsync(server, "cascade");
        var access = new AccessAdmin.AccessAdminClient(server.Admin);
        foreach (var usedFirst in new[] { false, true })
        {
            var host = $"enr-stolen-{usedFirst}-{Guid.NewGuid():N}";
            var stolen = await EnrollmentTests.EnrollAsync(server, secret, host);
            using var thief = server.Server.ChannelWith(() => stolen.Credential);
            var successor = await new Enrollment.EnrollmentClient(thief).RotateCredentialAsync(new RotateCredentialRequest());
            if (usedFirst) Assert.Equal(1u, await EnrollmentTests.ReportAsync(server, successor.Credential, Sighting(host, 31507, Transport.Tcp, "x")));

            var revoked = await access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = stolen.TokenId });

            Assert.NotNull(revoked.Info.RevokedAt);
            Assert.Equal(StatusCode.Unauthenticated,
                (await RegistryServerFixture.FailsAsync(() => EnrollmentTests.ReportAsync(server, successor.Credential, Sighting(host, 31507, Transport.Tcp, "x")))).StatusCode);
            Assert.All((await access.ListTokensAsync(new ListTokensRequest())).Tokens.Where(t => t.HostRef == host), t => Assert.NotNull(t.RevokedAt));
        }
    }

    [Fact]
    public async Task With_admin_approval_a_new_host_waits_until_approved_and_revoked_credentials_are_deleted_after_the_retention()
    {
        var server = await resources.SharedAsync("enrollment-approval", () => SightingsServer.StartAsync(fixture.Postgres, "enrollmentapproval",
            new Dictionary<string, string>
            {
                ["PortHistory__Enrollment__Approval"] = "admin",
                ["PortHistory__Enrollment__CredentialRetention"] = "00:00:02",
                ["PortHistory__Enrollment__CredentialRetentionInterval"] = "00:00:00.200",
            }));
        var secret = await EnrollmentTests.IssueSecretAsync(server, "approval");
        var host = $"enr-approve-{Guid.NewGuid():N}";

        var waiting = await RegistryServerFixture.FailsAsync(() => EnrollmentTests.EnrollAsync(server, secret, host));
        Assert.Equal(StatusCode.PermissionDenied, waiting.StatusCode);
        Assert.Contains("approval", waiting.Status.Detail, StringComparison.Ordinal);
        var (exit, output, _) = await EnrollmentTests.RunCliAsync(server, "token", "pending");
        Assert.True(exit == 0, output);
        Assert.Contains($"waiting   {host}", output, StringComparison.Ordinal);
        Assert.DoesNotContain((await new AccessAdmin.AccessAdminClient(server.Admin).ListTokensAsync(new ListTokensRequest())).Tokens, t => t.HostRef == host);

        (exit, output, _) = await EnrollmentTests.RunCliAsync(server, "token", "approve", host);
        Assert.True(exit == 0, output);
        var enrolled = await EnrollmentTests.EnrollAsync(server, secret, host);
        Assert.Equal(1u, await EnrollmentTests.ReportAsync(server, enrolled.Credential, Sighting(host, 31508, Transport.Tcp, "x")));

        // Revoked, the credential is deleted once the retention has passed; the enrollment secret (no host) stays listed.
        var access = new AccessAdmin.AccessAdminClient(server.Admin);
        await access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = enrolled.TokenId });
        await access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = secret.Info.TokenId });
        var tokens = await SightingsServer.EventuallyAsync(async () => (await access.ListTokensAsync(new ListTokensRequest())).Tokens,
            t => t.All(x => x.TokenId != enrolled.TokenId), TimeSpan.FromSeconds(30));
        Assert.NotNull(Assert.Single(tokens, t => t.TokenId == secret.Info.TokenId).RevokedAt);
    }
}
