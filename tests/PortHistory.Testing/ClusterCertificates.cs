using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PortHistory.Testing;

/// <summary>
/// Certificates for clusters that speak mutual TLS: the ones the deploy script makes, or an authority of its own
/// (another cluster's, to show its certificates are refused) with certificates it issues, as PEM files.
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

    /// <summary>
    /// The certificates deploy/make-cluster-certificates.sh creates (what an operator puts in the Secret): the
    /// authority, and the one certificate every silo presents. Returns the silo settings and that certificate.
    /// </summary>
    public static async Task<(Dictionary<string, string> Settings, X509Certificate2 Certificate)> FromDeployScriptAsync(string directory)
    {
        var script = Path.Combine(RegistryData.RepositoryRoot, "deploy", "make-cluster-certificates.sh");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [script, directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed: {await error}");
        var settings = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Tls__CertificatePath"] = Path.Combine(directory, "tls.crt"),
            ["PortHistory__Silo__Tls__KeyPath"] = Path.Combine(directory, "tls.key"),
            ["PortHistory__Silo__Tls__AuthorityPath"] = Path.Combine(directory, "ca.crt"),
        };
        return (settings, X509Certificate2.CreateFromPemFile(settings["PortHistory__Silo__Tls__CertificatePath"], settings["PortHistory__Silo__Tls__KeyPath"]));
    }

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

    public void Dispose()
    {
        _authority.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
