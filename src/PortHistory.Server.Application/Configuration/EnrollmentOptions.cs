using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>Who may enroll which host, and how long per-host credentials are kept (section <c>PortHistory:Enrollment</c>).</summary>
public sealed class EnrollmentOptions
{
    public const string Section = "PortHistory:Enrollment";

    /// <summary>
    /// "none": any host_ref may enroll with an enrollment secret. "allow-list": only host_refs an admin approved in
    /// advance (porthistory token approve). "admin": an unknown host_ref's enrollment is refused and recorded as
    /// waiting, for an admin to approve (porthistory token pending, then approve).
    /// </summary>
    [RegularExpression("^(none|allow-list|admin)$", ErrorMessage = "PortHistory:Enrollment:Approval must be none, allow-list or admin")]
    public string Approval { get; set; } = "none";

    public EnrollmentApproval ApprovalMode => Approval switch
    {
        "allow-list" => EnrollmentApproval.AllowList,
        "admin" => EnrollmentApproval.Admin,
        _ => EnrollmentApproval.None,
    };

    /// <summary>
    /// With Approval none only: enrolling a host_ref that has a live credential revokes that credential (a reinstalled
    /// host takes its id back). Off: such an enrollment is refused until an admin revokes the host
    /// (porthistory token revoke --host REF), so an enrollment secret cannot cut off a host that is running.
    /// </summary>
    public bool ReenrollTakesOver { get; set; }

    /// <summary>A rotated credential not used within this long stops working (and the host may rotate again).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan PendingRotationLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Revoked per-host credentials (rotated out, re-enrolled, revoked) are deleted this long after their revocation.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan CredentialRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often one silo of the cluster deletes credentials past <see cref="CredentialRetention"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan CredentialRetentionInterval { get; set; } = TimeSpan.FromHours(1);
}

public enum EnrollmentApproval
{
    None,
    AllowList,
    Admin,
}
