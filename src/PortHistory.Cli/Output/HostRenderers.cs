using System.Globalization;
using Google.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>Tables and JSON for the reporting hosts: the fleet listing, and one host's sockets.</summary>
public static class HostRenderers
{
    public static async Task HostsAsync(TextWriter output, IAsyncEnumerable<(HostSummary Host, ListHostsResponse Page)> hosts, bool json)
    {
        var table = new TextTable("HOST", "STATE", "SINCE", "GROUP", "LAST SEEN", "SOCKETS", "REPORTING", "AGENT", "DROPPED");
        ListHostsResponse? first = null;
        var count = 0;
        await foreach (var (host, page) in hosts)
        {
            first ??= page;
            count++;
            if (json)
            {
                output.WriteLine(JsonFormatter.Default.Format(host));
                continue;
            }

            table.Add(host.HostRef, State(host.State), Time(host.StateSince), host.HostGroup, Time(host.LastSeen), host.Sockets.ToString(CultureInfo.InvariantCulture),
                host.Differential ? $"changes (seq {host.Seq})" : "full reports", host.AgentVersion, Dropped(host));
        }

        if (json) return;
        if (count > 0) table.WriteTo(output);
        if (first is not null || count == 0)
        {
            output.WriteLine($"{count} host(s) listed; the fleet: {first?.Online ?? 0} online, {first?.Stale ?? 0} stale, {first?.Retired ?? 0} retired.");
        }
    }

    public static void Host(TextWriter output, GetHostResponse host, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonFormatter.Default.Format(host));
            return;
        }

        var h = host.Host;
        output.WriteLine($"Host {h.HostRef}: {State(h.State)} since {Time(h.StateSince)}, last heard {Time(h.LastSeen)}, first seen {Time(h.FirstSeen)}");
        output.WriteLine(h.Differential
            ? $"Reports changes (epoch {h.Epoch:x16}, seq {h.Seq}); last full snapshot {Time(h.LastSnapshotAt)}; agent {Or(h.AgentVersion)}, {(h.AgentPrivileged ? "privileged" : "unprivileged")}"
            : $"Reports full scans; agent {Or(h.AgentVersion)}, {(h.AgentPrivileged ? "privileged" : "unprivileged")}");
        if (h.HostGroup.Length > 0) output.WriteLine($"Group: {h.HostGroup}");
        if (h.DroppedReports > 0) output.WriteLine($"Its agent dropped {Dropped(h)} (spool full).");
        if (h.RetiredReason.Length > 0) output.WriteLine($"Retired: {h.RetiredReason}");
        var table = new TextTable("PORT", "SCOPE", "PROCESS", "PROGRAM", "UNIT", "EXECUTABLE", "SINCE");
        foreach (var s in host.Sockets)
        {
            var scope = s.Socket.BindScope switch
            {
                BindScope.Loopback => "loopback",
                BindScope.Specific => s.Socket.BoundAddress,
                _ => "any",
            };
            table.Add($"{s.Socket.Port}/{s.Socket.Transport.ToString().ToLowerInvariant()}", scope, s.Socket.ProcessName, Or(s.Socket.Program),
                Or(s.Socket.SystemdUnit), s.Socket.Executable, Time(s.Since));
        }

        output.WriteLine();
        table.WriteTo(output);
    }

    public static void Retired(TextWriter output, RetireHostResponse retired, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonFormatter.Default.Format(retired));
            return;
        }

        output.WriteLine($"Host {retired.Host.HostRef} is {State(retired.Host.State)}: {retired.Host.RetiredReason}; {retired.RevokedCredentials} credential(s) revoked.");
    }

    private static string State(HostLiveness state) => state switch
    {
        HostLiveness.Online => "online",
        HostLiveness.Stale => "stale",
        HostLiveness.Retired => "retired",
        _ => "?",
    };

    private static string Dropped(HostSummary host) =>
        host.DroppedReports == 0 ? "" : $"{host.DroppedReports} report(s), {host.DroppedBytes} bytes";

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "-" : at.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Or(string text) => text.Length > 0 ? text : "-";
}
