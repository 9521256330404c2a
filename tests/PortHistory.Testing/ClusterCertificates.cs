using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PortHistory.Testing;

/// <summary>
/// A certificate authority of its own and silo certificates it issues, written as PEM files in a temporary directory
/// (as an operator's Secret would hold them), for clusters that speak mutual TLS.
/// </summary>
public sealed class ClusterCertificates : IDisposable
{
    private readonly X509Certificate2 _authority;

    public ClusterCertificates(string name)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"porthistory-pki-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        AuthorityPath = Path.Combine(Directory, "ca.crt");
        File.WriteAllText(AuthorityPath, _authority.ExportCertificatePem());
    }

    public string Directory { get; }

    public string AuthorityPath { get; }

    /// <summary>A certificate for a silo (server and client authentication), with its key; both as files.</summary>
    public (X509Certificate2 Certificate, string CertificatePath, string KeyPath) Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(_authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        var certificate = issued.CopyWithPrivateKey(key);
        var certificatePath = Path.Combine(Directory, $"{name}.crt");
        var keyPath = Path.Combine(Directory, $"{name}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificate, certificatePath, keyPath);
    }

    /// <summary>Server settings for a silo presenting <paramref name="name"/>'s certificate.</summary>
    public Dictionary<string, string> SiloSettings(string name)
    {
        var (_, certificatePath, keyPath) = Issue(name);
        return new Dictionary<string, string>
        {
            ["PortHistory__Silo__Tls__CertificatePath"] = certificatePath,
            ["PortHistory__Silo__Tls__KeyPath"] = keyPath,
            ["PortHistory__Silo__Tls__AuthorityPath"] = AuthorityPath,
        };
    }

    public void Dispose()
    {
        _authority.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
