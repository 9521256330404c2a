using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// Per-host credentials: enrolling a host (with the approval mode's rules), rotating a credential (one pending
/// rotation per host), revoking a host, approving hosts. See docs/security.md for the threat model.
/// </summary>
public sealed class HostCredentials(
    IAccessTokenStore store,
    IHostApprovals approvals,
    TokenValidator validator,
    IOptions<EnrollmentOptions> options,
    ILogger<HostCredentials> logger)
{
    /// <summary>
    /// A new credential for <paramref name="hostRef"/>, asked for with <paramref name="secret"/> (an enrollment secret).
    /// Refused (PermissionDenied) for a host the approval mode does not admit, and (FailedPrecondition) for a host that
    /// has a live credential unless re-enrolling takes over.
    /// </summary>
    public async Task<(TokenInfo Info, string Secret)> EnrollAsync(string hostRef, Principal secret, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        switch (settings.ApprovalMode)
        {
            case EnrollmentApproval.AllowList when !await approvals.IsApprovedAsync(hostRef, cancellationToken):
                throw new RpcException(new Status(StatusCode.PermissionDenied,
                    $"enrollment: host_ref \"{hostRef}\" is not on the allow-list; an admin adds it with: porthistory token approve {hostRef}"));
            case EnrollmentApproval.Admin when !await approvals.IsApprovedAsync(hostRef, cancellationToken):
                await approvals.RecordRequestAsync(hostRef, secret.TokenId, cancellationToken);
                logger.LogWarning("Host {HostRef} asked to enroll (with {TokenId}) and waits for an admin's approval", hostRef, secret.TokenId);
                throw new RpcException(new Status(StatusCode.PermissionDenied,
                    $"enrollment: host_ref \"{hostRef}\" waits for an admin's approval (porthistory token pending; porthistory token approve {hostRef}); enroll again once approved"));
        }

        var takeOver = settings.ApprovalMode == EnrollmentApproval.None && settings.ReenrollTakesOver;
        var newSecret = TokenSecrets.NewSecret();
        var outcome = await store.EnrollAsync(TokenSecrets.NewToken(newSecret, $"host {hostRef}, enrolled with {secret.TokenId}", Role.Agent, hostRef), takeOver,
            cancellationToken);
        if (outcome.Enrolled is not { } info)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"enrollment: host_ref \"{hostRef}\" has a live credential ({outcome.LiveCredential}); to enroll it again an admin revokes it first: porthistory token revoke --host {hostRef}"));
        }

        await validator.ForgetAsync(outcome.Revoked, cancellationToken);
        logger.LogInformation("Enrolled host {HostRef} with credential {TokenId}{Revoked}", hostRef, info.TokenId,
            outcome.Revoked.Count > 0 ? $"; revoked {string.Join(", ", outcome.Revoked)}" : "");
        return (info, newSecret);
    }

    /// <summary>
    /// A new credential for the host of <paramref name="current"/>, which keeps working until the new one is first used
    /// (an agent that never received or stored the answer still has a working credential). While a rotation is pending
    /// (unused and younger than PendingRotationLifetime) another is refused: a stolen credential cannot mint more.
    /// </summary>
    public async Task<(TokenInfo Info, string Secret)> RotateAsync(Principal current, CancellationToken cancellationToken)
    {
        var hostRef = current.HostRef ?? throw new ArgumentException("only a per-host credential is rotated", nameof(current));
        var secret = TokenSecrets.NewSecret();
        var outcome = await store.RotateAsync(TokenSecrets.NewToken(secret, current.Name, Role.Agent, hostRef, rotatedFrom: current.TokenId),
            options.Value.PendingRotationLifetime, cancellationToken);
        if (outcome.Pending is { } pending)
        {
            var expires = pending.CreatedAt.ToDateTime() + options.Value.PendingRotationLifetime;
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"credential: host \"{hostRef}\" has an unused rotation ({pending.TokenId}, issued {pending.CreatedAt.ToDateTime():u}); use it, or rotate again after " +
                $"{expires:u} when it expires, or have an admin revoke it"));
        }

        return outcome.Rotated is { } info
            ? (info, secret)
            : throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: unknown or revoked token"));
    }

    /// <summary>Revokes every live credential of the host (an admin's answer to a stolen or retired host).</summary>
    public async Task<IReadOnlyList<TokenInfo>> RevokeHostAsync(string hostRef, CancellationToken cancellationToken)
    {
        var revoked = await store.RevokeHostAsync(hostRef, cancellationToken);
        await validator.ForgetAsync([.. revoked.Select(t => t.TokenId)], cancellationToken);
        logger.LogInformation("Revoked host {HostRef}: {Count} credential(s)", hostRef, revoked.Count);
        return revoked;
    }

    public Task<int> ApproveAsync(IReadOnlyCollection<string> hostRefs, Principal admin, CancellationToken cancellationToken) =>
        approvals.ApproveAsync(hostRefs, admin.TokenId, cancellationToken);

    public Task<IReadOnlyList<HostApproval>> ListApprovalsAsync(int limit, CancellationToken cancellationToken) => approvals.ListAsync(limit, cancellationToken);
}
