using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>Enrollment's rules: who may enroll which host, when a live credential is taken over, one pending rotation per host.</summary>
public sealed class HostCredentialsTests
{
    private static readonly Principal Secret = new("tok_enroll", "enrollment secret", Role.Enroll);

    private readonly FakeAccessTokenStore _store = new();
    private readonly FakeHostApprovals _approvals = new();

    private HostCredentials Hosts(EnrollmentOptions? options = null)
    {
        var validator = new TokenValidator(_store, new FailedAuthenticationLimiter(Options.Create(new RateLimitOptions())), Options.Create(options ?? new EnrollmentOptions()),
            new PortHistoryMetrics(), TimeProvider.System, NullLogger<TokenValidator>.Instance);
        return new HostCredentials(_store, _approvals, validator, Options.Create(options ?? new EnrollmentOptions()), NullLogger<HostCredentials>.Instance);
    }

    [Fact]
    public async Task Enrolling_a_host_that_has_a_live_credential_is_refused_unless_takeover_is_allowed_with_approval_none()
    {
        var (first, _) = await Hosts().EnrollAsync("web-1", Secret, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<RpcException>(() => Hosts().EnrollAsync("web-1", Secret, CancellationToken.None));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains(first.TokenId, refused.Status.Detail);
        Assert.Contains("revoke --host web-1", refused.Status.Detail);
        Assert.Null((await _store.ListAsync(CancellationToken.None)).Single(t => t.TokenId == first.TokenId).RevokedAt);

        var (second, _) = await Hosts(new EnrollmentOptions { ReenrollTakesOver = true }).EnrollAsync("web-1", Secret, CancellationToken.None);
        var tokens = await _store.ListAsync(CancellationToken.None);
        Assert.NotNull(tokens.Single(t => t.TokenId == first.TokenId).RevokedAt);
        Assert.Null(tokens.Single(t => t.TokenId == second.TokenId).RevokedAt);
        // Takeover is for approval none only.
        _approvals.Hosts["web-1"] = new HostApproval("web-1", true, null, null, DateTime.UtcNow, "tok_admin");
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<RpcException>(() =>
            Hosts(new EnrollmentOptions { ReenrollTakesOver = true, Approval = "allow-list" }).EnrollAsync("web-1", Secret, CancellationToken.None))).StatusCode);
    }

    [Fact]
    public async Task With_an_allow_list_only_approved_hosts_enroll()
    {
        var hosts = Hosts(new EnrollmentOptions { Approval = "allow-list" });
        var refused = await Assert.ThrowsAsync<RpcException>(() => hosts.EnrollAsync("fake-host", Secret, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Empty(await _store.ListAsync(CancellationToken.None));
        Assert.Empty(_approvals.Hosts);

        await hosts.ApproveAsync(["db-1"], new Principal("tok_admin", "admin", Role.Admin), CancellationToken.None);
        Assert.Equal("db-1", (await hosts.EnrollAsync("db-1", Secret, CancellationToken.None)).Info.HostRef);
    }

    [Fact]
    public async Task With_admin_approval_an_unknown_host_waits_listed_until_approved()
    {
        var hosts = Hosts(new EnrollmentOptions { Approval = "admin" });
        var refused = await Assert.ThrowsAsync<RpcException>(() => hosts.EnrollAsync("new-host", Secret, CancellationToken.None));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("waits for an admin's approval", refused.Status.Detail);
        var waiting = Assert.Single(await hosts.ListApprovalsAsync(10, CancellationToken.None));
        Assert.Equal(("new-host", false, Secret.TokenId), (waiting.HostRef, waiting.Approved, waiting.RequestedBy));
        Assert.Empty(await _store.ListAsync(CancellationToken.None));

        Assert.Equal(1, await hosts.ApproveAsync(["new-host"], new Principal("tok_admin", "admin", Role.Admin), CancellationToken.None));
        Assert.Equal("new-host", (await hosts.EnrollAsync("new-host", Secret, CancellationToken.None)).Info.HostRef);
    }

    [Fact]
    public async Task A_host_has_one_pending_rotation_at_a_time_until_it_expires()
    {
        var hosts = Hosts();
        var (enrolled, _) = await hosts.EnrollAsync("web-2", Secret, CancellationToken.None);
        var credential = new Principal(enrolled.TokenId, enrolled.Name, Role.Agent, "web-2");
        var (pending, _) = await hosts.RotateAsync(credential, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<RpcException>(() => hosts.RotateAsync(credential, CancellationToken.None));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains(pending.TokenId, refused.Status.Detail);

        _store.Age(pending.TokenId, new EnrollmentOptions().PendingRotationLifetime + TimeSpan.FromMinutes(1));
        var (next, _) = await hosts.RotateAsync(credential, CancellationToken.None);
        Assert.NotEqual(pending.TokenId, next.TokenId);
    }
}
