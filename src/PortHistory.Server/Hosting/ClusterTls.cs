using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using PortHistory.Server.Configuration;

namespace PortHistory.Server.Hosting;

/// <summary>
/// The silo's side of mutual TLS: its certificate for both directions, a certificate required from every peer (silo
/// or client), and trust in the cluster's own authority only — not the system's roots, which would admit anyone with
/// a certificate from a public CA. Peers are reached by address, so names are not checked: issuance by the cluster's
/// authority is what admits a peer, and that authority issues nothing else.
/// </summary>
public static class ClusterTls
{
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, ClusterTlsOptions settings)
    {
        if (!settings.Enabled) return silo;
        var certificate = X509Certificate2.CreateFromPemFile(Required(settings.CertificatePath, "CertificatePath"), Required(settings.KeyPath, "KeyPath"));
        var authority = X509CertificateLoader.LoadCertificateFromFile(Required(settings.AuthorityPath, "AuthorityPath"));
        return silo.UseTls(certificate, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.RemoteCertificateValidation = (remote, _, _) => IssuedBy(remote, authority);
        });
    }

    /// <summary>True when the certificate chains to <paramref name="authority"/> and is valid now.</summary>
    public static bool IssuedBy(X509Certificate2? certificate, X509Certificate2 authority)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        // A private authority publishes no revocation lists: a compromised silo certificate is handled by a new authority.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static string Required(string? path, string name) =>
        string.IsNullOrWhiteSpace(path)
            ? throw new InvalidOperationException($"PortHistory:Silo:Tls:{name} is not set: cluster TLS needs the certificate, its key and the authority")
            : File.Exists(path) ? path : throw new InvalidOperationException($"PortHistory:Silo:Tls:{name}: no such file: {path}");
}
