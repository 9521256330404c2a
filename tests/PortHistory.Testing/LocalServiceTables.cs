namespace PortHistory.Testing;

/// <summary>
/// The local service tables Debian installs: /etc/services from netbase, nmap-services from nmap-common. Tests read
/// them where the packages put them (.ci/run installs both); they are never copied into the repository.
/// </summary>
public static class LocalServiceTables
{
    public const string EtcServices = "/etc/services";
    public const string EtcServicesPackage = "netbase";
    public const string NmapServices = "/usr/share/nmap/nmap-services";
    public const string NmapServicesPackage = "nmap-common";

    /// <summary>
    /// The fields of the first uncommented line of an installed table naming <paramref name="name"/> on
    /// "<paramref name="port"/>/<paramref name="transport"/>", split on blanks: what a reader of the file sees, to
    /// compare a parser's answer with.
    /// </summary>
    public static string[]? LineFor(string path, string name, int port, string transport) =>
        File.ReadLines(path)
            .Select(line => line.Split('#', 2)[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(fields => fields.Length >= 2 && fields[0] == name && fields[1] == $"{port}/{transport}");
}

/// <summary>A fact that needs an installed file; skipped, naming the Debian package to install, when it is absent.</summary>
public sealed class InstalledFileFactAttribute : Xunit.FactAttribute
{
    public InstalledFileFactAttribute(string path, string package)
    {
        if (!File.Exists(path)) Skip = $"{path} is not installed (Debian package {package}: apt-get install {package})";
    }
}
