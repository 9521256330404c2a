namespace PortHistory.Server.Configuration;

/// <summary>
/// Mutual TLS between silos and on the silo gateway (section <c>PortHistory:Silo:Tls</c>). Every silo presents a
/// certificate issued by the cluster's own authority and accepts only peers that do the same: a process without such
/// a certificate can neither join the cluster nor call a grain. Off when no path is set.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>This silo's certificate (PEM), issued by <see cref="AuthorityPath"/>.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its private key (PEM).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The cluster's certificate authority (PEM): the only issuer whose certificates peers may present.</summary>
    public string? AuthorityPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath) || !string.IsNullOrWhiteSpace(KeyPath) || !string.IsNullOrWhiteSpace(AuthorityPath);
}
