using System.Globalization;
using PortHistory.Agent.Scanning;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent;

/// <summary>The --dry-run output: what would be sent, one sighting a row.</summary>
public static class SightingTable
{
    public static void Write(TextWriter output, string hostRef, ScanResult scan)
    {
        output.WriteLine($"host_ref {hostRef}, {scan.Sightings.Count} sightings, agent {(scan.Privileged ? "privileged" : "unprivileged")}"
            + (scan.Unowned > 0 ? $", {scan.Unowned} sockets without a visible process" : ""));
        string[] header = ["PROTO", "ADDRESS", "PORT", "STATE", "SCOPE", "PID", "USER", "PROCESS", "PROGRAM", "UNIT", "EXECUTABLE", "CONTAINER", "NETNS"];
        var rows = scan.Sightings.Select(s => new[]
        {
            s.Transport == Transport.Udp ? "udp" : "tcp",
            s.LocalAddress,
            s.Port.ToString(CultureInfo.InvariantCulture),
            s.State == SocketState.Listen ? "LISTEN" : "BOUND",
            s.BindScope switch { BindScope.Wildcard => "wildcard", BindScope.Loopback => "loopback", BindScope.Specific => "specific", _ => "-" },
            s.Pid == 0 ? "-" : s.Pid.ToString(CultureInfo.InvariantCulture),
            OrDash(s.User),
            OrDash(s.ProcessName),
            OrDash(s.Program),
            OrDash(s.SystemdUnit),
            OrDash(s.Executable),
            // A 12-digit prefix is how docker and crictl show container ids.
            s.ContainerId.Length > 12 ? s.ContainerId[..12] : OrDash(s.ContainerId),
            OrDash(s.NetworkNamespace),
        }).ToList();

        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Prepend(h.Length).Max()).ToArray();
        output.WriteLine(Line(header, widths));
        foreach (var row in rows) output.WriteLine(Line(row, widths));
    }

    private static string OrDash(string text) => text.Length > 0 ? text : "-";

    private static string Line(string[] cells, int[] widths) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
}
