using System.Text.RegularExpressions;

namespace PortHistory.Agent.Scanning;

/// <summary>
/// What /proc/[pid]/cgroup says of a process: the systemd service it belongs to, and the container it runs in. Lines are
/// "hierarchy-id:controllers:path"; cgroup v2 has the one line "0::/path", cgroup v1 one per hierarchy.
/// </summary>
public static partial class CgroupPaths
{
    public const int MaxUnitLength = 256;

    /// <summary>
    /// The innermost "*.service" in the unified hierarchy's path, else in systemd's own v1 hierarchy (name=systemd), else in
    /// any; "" when there is none (a login session's scope, a container's scope, no systemd) or a scope lies below it.
    /// </summary>
    public static string SystemdUnitOf(string? cgroupText)
    {
        if (cgroupText is null) return "";
        var lines = Lines(cgroupText).ToList();
        var preferred = lines.Where(l => l.Controllers.Length == 0 && l.Hierarchy == "0")
            .Concat(lines.Where(l => l.Controllers.Split(',').Contains("name=systemd")))
            .Concat(lines);
        foreach (var (_, _, path) in preferred)
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var at = Array.FindLastIndex(segments, s => s.EndsWith(".service", StringComparison.Ordinal));
            if (at < 0) continue;
            // A scope below a service is not the service: a desktop application under user@1000.service.
            if (segments.Skip(at + 1).Any(s => s.EndsWith(".scope", StringComparison.Ordinal))) return "";
            var unit = segments[at];
            return unit.Length <= MaxUnitLength && UnitName().IsMatch(unit) ? unit : "";
        }

        return "";
    }

    /// <summary>
    /// Best effort: docker, containerd, CRI-O and podman all put the 64-hex-digit container id in the cgroup path
    /// ("0::/system.slice/docker-&lt;id&gt;.scope", "/kubepods/.../cri-containerd-&lt;id&gt;.scope", "12:pids:/docker/&lt;id&gt;").
    /// The last one wins, being the innermost.
    /// </summary>
    public static string ContainerIdOf(string? cgroupText)
    {
        if (cgroupText is null) return "";
        var matches = ContainerId().Matches(cgroupText);
        return matches.Count > 0 ? matches[^1].Value : "";
    }

    private static IEnumerable<(string Hierarchy, string Controllers, string Path)> Lines(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            // The path may itself hold colons; it is everything after the second.
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[2].StartsWith('/')) yield return (parts[0], parts[1], parts[2].TrimEnd('\r'));
        }
    }

    [GeneratedRegex("(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")]
    private static partial Regex ContainerId();

    /// <summary>systemd's unit name characters (systemd.unit(5)): "rpc-statd.service", "getty@tty1.service", "a\x2db.service".</summary>
    [GeneratedRegex(@"^[A-Za-z0-9:_.\\@-]+\.service$")]
    private static partial Regex UnitName();
}
