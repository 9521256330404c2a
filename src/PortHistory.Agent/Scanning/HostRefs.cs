using System.Security.Cryptography;
using System.Text;

namespace PortHistory.Agent.Scanning;

/// <summary>
/// The pseudonymous host id sent with every sighting: stable per machine, and never the hostname or an address.
/// </summary>
public static class HostRefs
{
    public const int MaxLength = 128;

    private static readonly string[] MachineIdFiles = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

    /// <summary>SHA-256 of "porthistory:" + machine id, hex, first 32 characters.</summary>
    public static string FromMachineId(string machineId)
    {
        // The file ends in a newline; the id is what precedes it.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("porthistory:" + machineId.Trim()));
        return Convert.ToHexStringLower(hash)[..32];
    }

    /// <summary>--host-ref if given, else derived from the machine id; null when there is neither.</summary>
    public static string? Resolve(string? option, IEnumerable<string>? machineIdFiles = null)
    {
        if (option is not null) return option.Trim();
        foreach (var file in machineIdFiles ?? MachineIdFiles)
        {
            if (ProcFs.TryReadText(file) is { } text && text.Trim().Length > 0) return FromMachineId(text);
        }

        return null;
    }
}
