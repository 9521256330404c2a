using System.Globalization;
using PortHistory.Agent.Scanning;

namespace PortHistory.Agent;

/// <summary>A mistake in how the agent was started; reported without a stack trace, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The agent's settings, checked, with defaults and environment variables applied.</summary>
/// <param name="Token">Read on every call: a token file may be rotated while the agent runs.</param>
public sealed record AgentSettings(Uri Server, Func<string>? Token, string HostRef, TimeSpan Interval, int BatchSize, bool Once, bool DryRun, string ProcRoot)
{
    public const string DefaultServer = "http://127.0.0.1:7710";
    public const int DefaultBatchSize = 500;
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(60);

    /// <summary>Options as typed (null when not given), resolved against the environment.</summary>
    public static AgentSettings Resolve(
        string? server, string? token, string? tokenFile, string? hostRef, string? interval, int batchSize, bool once, bool dryRun, string procRoot,
        Func<string, string?> environment, IEnumerable<string>? machineIdFiles = null)
    {
        var serverUri = ResolveServer(server, environment);
        if (batchSize < 1) throw new UsageException($"--batch-size must be at least 1, got {batchSize}");
        var every = interval is null ? DefaultInterval : ParseInterval(interval);
        if (!Directory.Exists(procRoot)) throw new UsageException($"--proc-root: no directory \"{procRoot}\" (the agent reads Linux's /proc)");

        var resolvedHostRef = ResolveHostRef(hostRef, machineIdFiles);
        // A dry run sends nothing, so it needs no token.
        var tokenSource = dryRun ? null : TokenSource(token, tokenFile, environment);
        return new AgentSettings(serverUri, tokenSource, resolvedHostRef, every, batchSize, once, dryRun, procRoot);
    }

    /// <summary>--server, else $PORTHISTORY_SERVER, else the default; an http(s) URL.</summary>
    public static Uri ResolveServer(string? server, Func<string, string?> environment)
    {
        server ??= environment("PORTHISTORY_SERVER") is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server must be an http:// or https:// URL, got \"{server}\"");
        }

        return serverUri;
    }

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

    /// <summary>--token, else --token-file, else $PORTHISTORY_TOKEN.</summary>
    private static Func<string> TokenSource(string? token, string? tokenFile, Func<string, string?> environment)
    {
        if (token is not null && tokenFile is not null) throw new UsageException("pass either --token or --token-file, not both");
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

        if (environment("PORTHISTORY_TOKEN") is { } fromEnvironment) return Required(fromEnvironment.Trim(), "$PORTHISTORY_TOKEN is empty");
        throw new UsageException("no token: pass --token or --token-file, or set $PORTHISTORY_TOKEN (a token with the agent role)");
    }

    private static Func<string> Required(string token, string whenEmpty) => token.Length > 0 ? () => token : throw new UsageException(whenEmpty);

    /// <summary>"60s", "5m", "1h", "1500ms", or plain seconds ("90"); at least one second.</summary>
    public static TimeSpan ParseInterval(string text)
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
        if (parsed is not { } interval) throw new UsageException($"--interval must be a duration such as 60s, 5m or 1h, got \"{text}\"");
        if (interval < TimeSpan.FromSeconds(1)) throw new UsageException($"--interval must be at least 1s, got \"{text}\"");
        return interval;
    }
}
