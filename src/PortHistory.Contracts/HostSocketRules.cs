using System.Net;

namespace PortHistory.Contracts.V1;

/// <summary>
/// What a socket of a differential report must be for the server to take it: the agent leaves out of its set what the
/// server would refuse, the server refuses it, one rule for both. Text is checked as sent, never changed: the set digest
/// is of exactly that text.
/// </summary>
public static class HostSocketRules
{
    /// <returns>The field and why it is refused, or null.</returns>
    public static (string Field, string Reason)? Check(HostSocket s)
    {
        if (!s.HasPort) return ("port", "is required (0-65535)");
        if (s.Port > 65535) return ("port", $"must be 0-65535, got {s.Port}");
        if (s.Transport == Transport.Unspecified) return ("transport", "is required (tcp, udp, sctp or dccp)");
        if (!Enum.IsDefined(s.Transport)) return ("transport", $"unknown transport {(int)s.Transport}");
        if (s.BindScope == BindScope.Unspecified) return ("bind_scope", "is required (wildcard, loopback or specific)");
        if (!Enum.IsDefined(s.BindScope)) return ("bind_scope", $"unknown bind scope {(int)s.BindScope}");
        if (s.BindScope == BindScope.Specific)
        {
            if (WireText.Check(s.BoundAddress, 64, required: true) is { } address) return ("bound_address", address);
            if (!IPAddress.TryParse(s.BoundAddress, out _)) return ("bound_address", $"\"{s.BoundAddress}\" is not an IP address");
        }
        else if (s.BoundAddress.Length > 0) return ("bound_address", "is only for a specific bind scope");

        if (s.ProcessName.Length == 0 && s.Executable.Length == 0) return ("process_name", "is required (or executable)");
        if (Text(s.ProcessName, 256) is { } process) return ("process_name", process);
        if (Text(s.Executable, 4096) is { } executable) return ("executable", executable);
        if (WireText.CheckName(s.Program, 128) is { } program) return ("program", program);
        if (WireText.CheckName(s.SystemdUnit, 256) is { } unit) return ("systemd_unit", unit);
        if (s.Program.Trim().Length != s.Program.Length || s.SystemdUnit.Trim().Length != s.SystemdUnit.Length) return ("program", "must not start or end with whitespace");
        return null;
    }

    private static string? Text(string value, int maxLength) =>
        WireText.Check(value, maxLength) ?? (value.Trim().Length != value.Length ? "must not start or end with whitespace" : null);
}
