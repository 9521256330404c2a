using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.Enrollment: an enrollment secret gets a host its own credential (an agent token bound to its
/// host_ref); that credential gets its successor. Both are rate-limited per calling token.
/// </summary>
public sealed class EnrollmentApi(HostCredentials hosts, EnrollmentRateLimiter limiter) : Enrollment.EnrollmentBase
{
    /// <summary>As long as a sighting's host_ref may be.</summary>
    public const int MaxHostRefLength = 128;

    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        var caller = CallAuthorization.PrincipalOf(context);
        var hostRef = Requests.Text(request.HostRef, "host_ref", MaxHostRefLength);
        Take(caller, "enrollments");
        var (info, secret) = await hosts.EnrollAsync(hostRef, caller, context.CancellationToken);
        return new EnrollResponse { Credential = secret, HostRef = hostRef, TokenId = info.TokenId };
    }

    public override async Task<RotateCredentialResponse> RotateCredential(RotateCredentialRequest request, ServerCallContext context)
    {
        var caller = CallAuthorization.PrincipalOf(context);
        if (caller.HostRef is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "credential: only a per-host credential (from Enrollment.Enroll) can be rotated; a shared token is replaced by issuing a new one"));
        }

        Take(caller, "rotations");
        var (info, secret) = await hosts.RotateAsync(caller, context.CancellationToken);
        return new RotateCredentialResponse { Credential = secret, HostRef = caller.HostRef, TokenId = info.TokenId };
    }

    private void Take(Principal caller, string what)
    {
        var wait = limiter.TryTake(caller.TokenId);
        if (wait == TimeSpan.Zero) return;
        throw RetryAfter.Refusal(StatusCode.ResourceExhausted, $"rate limit: token {caller.TokenId} makes {what} too fast; retry after {{ms}} ms", wait);
    }
}
