namespace PortHistory.Server.Application.Configuration;

/// <summary>How the first admin token is handed to whoever runs the server (section <c>PortHistory:Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "PortHistory:Auth";

    /// <summary>
    /// Set: the server keeps a valid admin token in this file (created with mode 600 when missing). Unset or empty: a
    /// database without any admin token gets one, written to <see cref="Access.BootstrapAdminToken.DefaultFile"/>.
    /// The secret is never logged, only the token's id and the file's path.
    /// </summary>
    public string? BootstrapTokenFile { get; set; }

    /// <summary>
    /// When the file holds a token that was revoked, issue a new one into it. Off: the server leaves the file alone and
    /// says so (a revocation is usually deliberate, and a new admin token must not appear behind the admin's back).
    /// </summary>
    public bool ReplaceRevokedBootstrapToken { get; set; }
}
