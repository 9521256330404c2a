using Grpc.Core;
using PortHistory.Agent.Reporting;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Sending;

public enum HostReportStatus
{
    /// <summary>Applied now, or had been applied before (DUPLICATE): the server holds what the report says.</summary>
    Applied,

    /// <summary>The server's view of the host does not match the report: nothing of it was applied; a snapshot is due.</summary>
    Resync,

    /// <summary>The server does not know ReportHost (an older server): report full scans with ReportBatch instead.</summary>
    Unimplemented,

    /// <summary>No usable answer: retries ran out, the failure was not worth retrying, or the answer made no sense.</summary>
    Failed,
}

/// <param name="Duplicate">For <see cref="HostReportStatus.Applied"/>: it had been applied before.</param>
/// <param name="Reason">For <see cref="HostReportStatus.Resync"/>: the server's words, made printable.</param>
public sealed record HostReportAnswer(HostReportStatus Status, bool Duplicate = false, string Reason = "", ulong ServerSeq = 0);

/// <summary>
/// Sends one HostReport with ReportHost. Transient failures are retried (ResourceExhausted waits what the server asks,
/// with jitter, so that a fleet reconnecting at once comes back spread out); a report sent again after a lost answer
/// is recognised by its epoch and seq and answered DUPLICATE.
/// </summary>
public sealed class HostReportSender(Sightings.SightingsClient client, Func<string> token, TextWriter error, CallRetries? retries = null)
{
    private readonly CallRetries _retries = retries ?? new CallRetries();

    /// <exception cref="ServerRefusedException">The server refused the agent itself (token, role, request shape), as it does batches.</exception>
    public async Task<HostReportAnswer> SendAsync(HostReport report, CancellationToken cancellationToken)
    {
        var what = $"report {HostReports.Describe(report)}";
        var call = await _retries.CallAsync(what, () =>
        {
            var headers = new Metadata { { "authorization", $"Bearer {token()}" } };
            return client.ReportHostAsync(report, headers, DateTime.UtcNow + BatchSender.AttemptTimeout, cancellationToken).ResponseAsync;
        }, error, cancellationToken);
        if (call.Answer is { } result)
        {
            return result.Outcome switch
            {
                HostReportOutcome.Applied or HostReportOutcome.Duplicate => new HostReportAnswer(HostReportStatus.Applied,
                    result.Outcome == HostReportOutcome.Duplicate, ServerSeq: result.Seq),
                HostReportOutcome.Resync => new HostReportAnswer(HostReportStatus.Resync, Reason: ServerText.Printable(result.Reason), ServerSeq: result.Seq),
                _ => await Nonsense(what, result),
            };
        }

        var failure = call.Failure!;
        switch (failure.StatusCode, RetryPolicy.Classify(failure.StatusCode))
        {
            case (StatusCode.Unimplemented, _):
                return new HostReportAnswer(HostReportStatus.Unimplemented);
            case (_, FailureKind.Fatal):
                throw new ServerRefusedException(BatchSender.RefusalMessage(failure), failure.StatusCode, failure);
            case (_, FailureKind.Permanent):
                await error.WriteLineAsync($"{what}: failed, not retried: {CallRetries.Describe(failure)}");
                break;
            default:
                await error.WriteLineAsync($"{what}: giving up after {call.Attempts} attempts: {CallRetries.Describe(failure)}");
                break;
        }

        return new HostReportAnswer(HostReportStatus.Failed);
    }

    private async Task<HostReportAnswer> Nonsense(string what, HostReportResult result)
    {
        await error.WriteLineAsync($"{what}: the server answered an unknown outcome ({(int)result.Outcome}); kept for the next send");
        return new HostReportAnswer(HostReportStatus.Failed);
    }
}
