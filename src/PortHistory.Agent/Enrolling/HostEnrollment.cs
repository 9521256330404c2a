using System.Globalization;
using Grpc.Core;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Enrolling;

/// <summary>
/// Gets this host a credential of its own (Enrollment.Enroll, with an enrollment secret) or its successor
/// (Enrollment.RotateCredential, with the current one), and stores it in the credential file. Unavailable servers and
/// rate limits are retried like batches are; a refused secret or credential is not.
/// </summary>
// Five parameters, three of them seams for tests (retry policy, delay, jitter).
public sealed class HostEnrollment(
    Enrollment.EnrollmentClient client,
    TextWriter error,
    RetryPolicy? policy = null,
    Func<TimeSpan, CancellationToken, Task>? delay = null,
    Func<double>? jitter = null)
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    private readonly RetryPolicy _policy = policy ?? RetryPolicy.Default;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;
    private readonly Func<double> _jitter = jitter ?? Random.Shared.NextDouble;

    /// <summary>Enrolls <paramref name="hostRef"/>; the server revokes the host's earlier credentials. Returns the new token id.</summary>
    public async Task<string> EnrollAsync(string enrollmentSecret, string hostRef, string credentialFile, CancellationToken cancellationToken)
    {
        var response = await CallAsync("enroll", async (headers, deadline) =>
            await client.EnrollAsync(new EnrollRequest { HostRef = hostRef }, headers, deadline, cancellationToken), enrollmentSecret, cancellationToken);
        Store(credentialFile, response.Credential, response.HostRef, hostRef);
        return ServerText.Printable(response.TokenId);
    }

    /// <summary>
    /// Replaces the stored credential with a new one for the same host. The server keeps the current one working until
    /// the new one is first used, so an answer lost on the way, or a failed write, leaves the host able to report.
    /// </summary>
    public async Task<string> RotateAsync(string credentialFile, CancellationToken cancellationToken)
    {
        var current = CredentialFile.TryRead(credentialFile)
                      ?? throw new UsageException($"--credential-file: no credential in \"{credentialFile}\"; enroll first");
        var response = await CallAsync("rotate", async (headers, deadline) =>
            await client.RotateCredentialAsync(new RotateCredentialRequest(), headers, deadline, cancellationToken), current, cancellationToken);
        Store(credentialFile, response.Credential, response.HostRef, null);
        return ServerText.Printable(response.TokenId);
    }

    private static void Store(string credentialFile, string credential, string boundTo, string? expected)
    {
        // The answer is from the wire: it must be a token, for the host asked about, before it replaces anything.
        if (!CredentialFile.IsToken(credential)) throw new EnrollmentFailedException("the server's answer holds no usable credential; nothing was stored");
        if (expected is not null && boundTo != expected)
        {
            throw new EnrollmentFailedException($"the server bound the credential to another host (\"{Shown(boundTo)}\"); nothing was stored");
        }

        CredentialFile.Write(credentialFile, credential);
    }

    private async Task<T> CallAsync<T>(string what, Func<Metadata, DateTime, Task<T>> call, string token, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(new Metadata { { "authorization", $"Bearer {token}" } }, DateTime.UtcNow + AttemptTimeout);
            }
            catch (RpcException e) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("cancelled", e, cancellationToken);
            }
            catch (RpcException e)
            {
                var detail = CallRetries.Describe(e);
                if (RetryPolicy.Classify(e.StatusCode) != FailureKind.Transient)
                {
                    throw new ServerRefusedException(e.StatusCode switch
                    {
                        StatusCode.Unauthenticated => $"{what}: the server did not accept the {(what == "enroll" ? "enrollment secret" : "credential")} ({detail})",
                        StatusCode.PermissionDenied => $"{what}: the token may not {what} ({detail})",
                        _ => $"{what}: refused ({detail})",
                    }, e.StatusCode, e);
                }

                if (attempt >= _policy.MaxAttempts) throw new EnrollmentFailedException($"{what}: giving up after {attempt} attempts: {detail}", e);
                var wait = _policy.DelayBefore(attempt, e.Trailers, _jitter());
                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{what}: {detail}; retry {attempt} of {_policy.MaxAttempts - 1} in {wait.TotalSeconds:0.#} s"));
                await _delay(wait, cancellationToken);
            }
        }
    }

    private static string Shown(string text) => text.Length <= 128 && text.All(c => c is >= ' ' and < '\x7f') ? text : "(unprintable)";
}

/// <summary>No credential was stored, for a reason that may pass (the server did not answer, or answered nonsense).</summary>
public sealed class EnrollmentFailedException(string message, Exception? inner = null) : Exception(message, inner);
