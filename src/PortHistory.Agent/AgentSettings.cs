using System.Globalization;
using PortHistory.Agent.Scanning;

namespace PortHistory.Agent;

/// <summary>A mistake in how the agent was started; reported without a stack trace, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The agent's settings, checked, with defaults and environment variables applied.</summary>
/// <param name="Token">Read on every call: a token file may be rotated while the agent runs.</param>
/// <param name="SpoolDirectory">Where batches wait until the server acknowledges them.</param>
/// <param name="SpoolMaxBytes">Bound on the spool's segment files; the oldest batches are dropped beyond it.</param>
/// <param name="MetricsFile">Where to write the agent's figures in Prometheus text format, if anywhere.</param>
/// <param name="HostGroup">The group this host is reported in ("" for none), for expectations set per group.</param>
public sealed record AgentSettings(
    Uri Server, Func<string>? Token, string HostRef, TimeSpan Interval, int BatchSize, bool Once, bool DryRun, string ProcRoot,
    string SpoolDirectory, long SpoolMaxBytes, string? MetricsFile, string HostGroup = "")
{
    /// <summary>With nothing changed, how often the server hears from the agent (a heartbeat).</summary>
    public TimeSpan Heartbeat { get; init; } = DefaultHeartbeat;

    /// <summary>Report every scan in full with ReportBatch instead of differentially with ReportHost.</summary>
    public bool FullReports { get; init; }

    public const int MaxHostGroupLength = 64;

    public const string DefaultServer = "http://127.0.0.1:7710";
    public const int DefaultBatchSize = 500;
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(60);

    public const string SystemSpoolDirectory = "/var/lib/porthistory-agent/spool";
    public const long DefaultSpoolMaxBytes = 64L * 1024 * 1024;
    public const long MinSpoolMaxBytes = 1024 * 1024;
    public const long MaxSpoolMaxBytes = 1024L * 1024 * 1024 * 1024;

    /// <summary>Options as typed (null when not given), resolved against the environment.</summary>
    /// <param name="privileged">Whether the agent runs as root (default: the process's own answer); decides the default spool directory.</param>
    public static AgentSettings Resolve(
        string? server, string? token, string? tokenFile, string? hostRef, string? interval, int batchSize, bool once, bool dryRun, string procRoot,
        Func<string, string?> environment, IEnumerable<string>? machineIdFiles = null,
        string? spoolDirectory = null, string? spoolMaxBytes = null, string? metricsFile = null, bool? privileged = null, string? hostGroup = null,
        bool allowInsecure = false, Func<string, string?>? sourceOf = null, string? heartbeat = null, bool fullReports = false)
    {
        var serverUri = ResolveServer(server, environment, allowInsecure);
        if (batchSize < 1) throw new UsageException($"--batch-size must be at least 1, got {batchSize}");
        var every = interval is null ? DefaultInterval : ParseInterval(interval);
        var heartbeatEvery = heartbeat is null ? DefaultHeartbeat : ParseInterval(heartbeat, "--heartbeat");
        if (!Directory.Exists(procRoot)) throw new UsageException($"--proc-root: no directory \"{procRoot}\" (the agent reads Linux's /proc)");

        var resolvedHostRef = ResolveHostRef(hostRef, machineIdFiles);
        // A dry run sends nothing, so it needs no token.
        var tokenSource = TokenSource(token, tokenFile, environment, sourceOf ?? (_ => null), dryRun);
        var spoolBound = spoolMaxBytes is null ? DefaultSpoolMaxBytes : ParseSize(spoolMaxBytes);
        if (spoolBound is < MinSpoolMaxBytes or > MaxSpoolMaxBytes)
        {
            throw new UsageException($"--spool-max-bytes must be between 1MiB and 1TiB, got \"{spoolMaxBytes}\"");
        }

        if (metricsFile is { Length: 0 }) throw new UsageException("--metrics-file is empty");
        return new AgentSettings(serverUri, tokenSource, resolvedHostRef, every, batchSize, once, dryRun, procRoot,
            ResolveSpoolDirectory(spoolDirectory, environment, privileged), spoolBound, metricsFile, CheckHostGroup(hostGroup))
        {
            Heartbeat = heartbeatEvery,
            FullReports = fullReports,
        };
    }

    /// <summary>--host-group as the server accepts it: a name of at most 64 characters, no whitespace, "/" or control characters.</summary>
    public static string CheckHostGroup(string? hostGroup)
    {
        if (hostGroup is null) return "";
        var problem = hostGroup.Length == 0 ? "is empty"
            : hostGroup.Length > MaxHostGroupLength ? $"is longer than {MaxHostGroupLength} characters"
            : hostGroup.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c) || c == '/') ? "must be a name, without whitespace, \"/\" or control characters"
            : null;
        return problem is null ? hostGroup : throw new UsageException($"--host-group {problem}");
    }

    /// <summary>
    /// --server, else $PORTHISTORY_SERVER, else the default; an https URL, or an http one on this host (the token must not
    /// cross the network in clear text) unless <paramref name="allowInsecure"/>.
    /// </summary>
    public static Uri ResolveServer(string? server, Func<string, string?> environment, bool allowInsecure = false)
    {
        server ??= environment("PORTHISTORY_SERVER") is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server must be an http:// or https:// URL, got \"{server}\"");
        }

        if (serverUri.Scheme == "http" && !allowInsecure && !IsLoopback(serverUri))
        {
            throw new UsageException($"--server {serverUri.GetLeftPart(UriPartial.Authority)} is plain http:// to another host: the token would cross the network "
                + "unencrypted. Use https://, or pass --allow-insecure (allow-insecure = true in the settings file) if the network is trusted");
        }

        return serverUri;
    }

    /// <summary>localhost, 127.0.0.0/8 or ::1 (also IPv4-mapped): a server on this host.</summary>
    public static bool IsLoopback(Uri server) =>
        server.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(server.Host.Trim('[', ']'), out var address)
            && System.Net.IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));

    /// <summary>--host-ref, else derived from the machine id.</summary>
    public static string ResolveHostRef(string? hostRef, IEnumerable<string>? machineIdFiles = null)
    {
        var resolved = HostRefs.Resolve(hostRef, machineIdFiles) ?? throw new UsageException("no host id: /etc/machine-id is missing or empty; pass --host-ref");
        if (resolved.Length == 0 || resolved.Length > HostRefs.MaxLength || resolved.Contains('\0'))
        {
            throw new UsageException($"--host-ref must be 1-{HostRefs.MaxLength} characters");
        }

        return resolved;
    }

    /// <summary>
    /// --spool-dir, else $STATE_DIRECTORY/spool (set by systemd's StateDirectory=, where the packaged unit runs the
    /// agent as a dynamic user), else /var/lib/porthistory-agent/spool for root, else $XDG_STATE_HOME/porthistory-agent/spool
    /// (~/.local/state/porthistory-agent/spool): an agent started by hand without root still keeps its batches.
    /// </summary>
    public static string ResolveSpoolDirectory(string? spoolDirectory, Func<string, string?> environment, bool? privileged = null)
    {
        if (spoolDirectory is not null)
        {
            return spoolDirectory.Trim().Length > 0 ? Path.GetFullPath(spoolDirectory) : throw new UsageException("--spool-dir is empty");
        }

        // systemd may list several state directories separated by colons; the unit names one.
        if (environment("STATE_DIRECTORY") is { Length: > 0 } managed && managed.Split(':')[0] is var first && Path.IsPathRooted(first))
        {
            return Path.Combine(first, "spool");
        }

        if (privileged ?? Environment.IsPrivilegedProcess) return SystemSpoolDirectory;
        var state = environment("XDG_STATE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)
            ? xdg
            : environment("HOME") is { Length: > 0 } home && Path.IsPathRooted(home)
                ? Path.Combine(home, ".local", "state")
                : throw new UsageException("no spool directory: not root and no $HOME; pass --spool-dir");
        return Path.Combine(state, "porthistory-agent", "spool");
    }

    /// <summary>Bytes, plain ("1048576") or with a binary unit: "512KiB", "64MiB", "1GiB" (K, M, G alone mean the same).</summary>
    public static long ParseSize(string text)
    {
        var trimmed = text.Trim();
        var digits = trimmed.TakeWhile(char.IsAsciiDigit).Count();
        long? multiplier = trimmed[digits..].Trim() switch
        {
            "" or "B" => 1,
            "K" or "KiB" => 1L << 10,
            "M" or "MiB" => 1L << 20,
            "G" or "GiB" => 1L << 30,
            _ => null,
        };
        if (digits is 0 or > 18 || multiplier is not { } unit
            || !long.TryParse(trimmed.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw new UsageException($"--spool-max-bytes must be a size such as 64MiB or 1GiB, got \"{text}\"");
        }

        // Saturates instead of overflowing; the caller's range check then refuses it.
        return value > long.MaxValue / unit ? long.MaxValue : value * unit;
    }

    /// <summary>
    /// --token (or $PORTHISTORY_TOKEN), else --token-file. A token and a token file both given, from any mix of the
    /// command line, the environment and the settings file, is a mistake that names both; a dry run checks that but
    /// needs no token (null).
    /// </summary>
    private static Func<string>? TokenSource(string? token, string? tokenFile, Func<string, string?> environment, Func<string, string?> sourceOf, bool dryRun)
    {
        var fromEnvironment = token is null ? environment("PORTHISTORY_TOKEN") : null;
        if ((token ?? fromEnvironment) is not null && tokenFile is not null)
        {
            var tokenSource = token is not null ? sourceOf("token") ?? "--token (flag)" : "$PORTHISTORY_TOKEN (environment)";
            throw new UsageException($"a token and a token file are both given: {tokenSource} and {sourceOf("token-file") ?? "--token-file (flag)"}; keep one");
        }

        if (dryRun) return null;
        if (token is not null) return Required(token.Trim(), "--token is empty");
        if (tokenFile is not null)
        {
            string ReadFile() => ProcFs.TryReadText(tokenFile)?.Trim() is { Length: > 0 } text
                ? text
                : throw new UsageException($"--token-file: cannot read a token from \"{tokenFile}\"");
            // Checked now so that a wrong path fails at start, not at the first send.
            ReadFile();
            return ReadFile;
        }

        if (fromEnvironment is not null) return Required(fromEnvironment.Trim(), "$PORTHISTORY_TOKEN is empty");
        throw new UsageException("no token: pass --token or --token-file, or set $PORTHISTORY_TOKEN (a token with the agent role)");
    }

    private static Func<string> Required(string token, string whenEmpty) => token.Length > 0 ? () => token : throw new UsageException(whenEmpty);

    /// <summary>"60s", "5m", "1h", "1500ms", or plain seconds ("90"); at least one second.</summary>
    public static TimeSpan ParseInterval(string text, string option = "--interval")
    {
        var trimmed = text.Trim();
        var digits = trimmed.TakeWhile(c => char.IsAsciiDigit(c) || c == '.').Count();
        var unit = trimmed[digits..];
        TimeSpan? parsed = double.TryParse(trimmed.AsSpan(0, digits), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                           && value < 1e6
            ? unit switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "" or "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => null,
            }
            : null;
        if (parsed is not { } interval) throw new UsageException($"{option} must be a duration such as 60s, 5m or 1h, got \"{text}\"");
        if (interval < TimeSpan.FromSeconds(1)) throw new UsageException($"{option} must be at least 1s, got \"{text}\"");
        return interval;
    }
}
