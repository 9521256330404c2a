namespace PortHistory.Server.Application.Access;

/// <summary>A host_ref's standing for enrollment: approved (may enroll), or asked and waiting for an admin.</summary>
public sealed record HostApproval(string HostRef, bool Approved, DateTime? RequestedAt, string? RequestedBy, DateTime? ApprovedAt, string? ApprovedBy);

/// <summary>The host_refs admins approved for enrollment, and the ones that asked and wait.</summary>
public interface IHostApprovals
{
    Task<bool> IsApprovedAsync(string hostRef, CancellationToken cancellationToken);

    /// <summary>Records that the host asked to enroll (the first request is kept); nothing when it is approved already.</summary>
    Task RecordRequestAsync(string hostRef, string requestedBy, CancellationToken cancellationToken);

    /// <summary>Approves the hosts (asked or not yet); how many were not approved before.</summary>
    Task<int> ApproveAsync(IReadOnlyCollection<string> hostRefs, string approvedBy, CancellationToken cancellationToken);

    /// <summary>Waiting hosts first, then approved ones, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<HostApproval>> ListAsync(int limit, CancellationToken cancellationToken);
}
