using System.Globalization;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.Enrollment: an enrollment secret gets a host its own credential (an agent token bound to its
/// host_ref); that credential gets its successor. Both are rate-limited per calling token.
/// </summary>
public sealed class EnrollmentApi(AccessTokens tokens, EnrollmentRateLimiter limiter) : Enrollment.EnrollmentBase
{
    /// <summary>As long as a sighting's host_ref may be.</summary>
    public const int MaxHostRefLength = 128;

    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        var caller = CallAuthorization.PrincipalOf(context);
        var hostRef = Requests.Text(request.HostRef, "host_ref", MaxHostRefLength);
        Take(caller, "enrollments");
        var (info, secret) = await tokens.EnrollAsync(hostRef, $"host {hostRef}, enrolled with {caller.TokenId}", context.CancellationToken);
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
        var rotated = await tokens.RotateAsync(caller, context.CancellationToken)
                      ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "authorization: unknown or revoked token"));
        return new RotateCredentialResponse { Credential = rotated.Secret, HostRef = caller.HostRef, TokenId = rotated.Info.TokenId };
    }

    private void Take(Principal caller, string what)
    {
        var wait = limiter.TryTake(caller.TokenId);
        if (wait == TimeSpan.Zero) return;
        var milliseconds = Math.Ceiling(wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        throw new RpcException(new Status(StatusCode.ResourceExhausted, $"rate limit: token {caller.TokenId} makes {what} too fast; retry after {milliseconds} ms"),
            new Metadata
            {
                { "retry-after-ms", milliseconds },
                { "retry-after", Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture) },
            });
    }
}
