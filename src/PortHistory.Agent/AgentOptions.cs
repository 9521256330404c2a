using System.CommandLine;
using PortHistory.Agent.Enrolling;

namespace PortHistory.Agent;

/// <summary>The agent's command-line options; each long name is also a key of the settings file (<see cref="AgentConfigFile"/>).</summary>
public static class AgentOptions
{
    public static readonly Option<string?> Server = ServerOption();

    public static readonly Option<string?> Token = new("--token") { Description = "Bearer token with the agent role. Default: $PORTHISTORY_TOKEN." };

    public static readonly Option<string?> TokenFile = new("--token-file") { Description = "File holding the token; read again before every send." };

    public static readonly Option<string?> HostRef = new("--host-ref")
    {
        Description = "Pseudonymous host id to report. Default: derived from /etc/machine-id (never the hostname).",
    };

    public static readonly Option<string?> HostGroup = new("--host-group")
    {
        Description = "Group this host is reported in (e.g. db, edge), for expectations set per group. Default: none.",
    };

    public static readonly Option<string?> Interval = new("--interval") { Description = "Time between scans, e.g. 60s, 5m, 1h. Default: 60s." };

    public static readonly Option<int> BatchSize = new("--batch-size")
    {
        Description = "Most sightings per batch.",
        DefaultValueFactory = _ => AgentSettings.DefaultBatchSize,
    };

    public static readonly Option<bool> Once = new("--once")
    {
        Description = "Scan once and send what the spool holds; exit 0 only if every batch was acknowledged.",
    };

    public static readonly Option<bool> DryRun = new("--dry-run") { Description = "Scan once and print the sightings; send nothing." };

    public static readonly Option<string> ProcRoot = new("--proc-root")
    {
        Description = "Where procfs is mounted (e.g. /host/proc in a container).",
        DefaultValueFactory = _ => "/proc",
    };

    public static readonly Option<string?> EnrollSecretFile = EnrollCommands.EnrollSecretFileOption();

    public static readonly Option<string> CredentialFile = EnrollCommands.CredentialFileOption();

    public static readonly Option<bool> AllowInsecure = AllowInsecureOption();

    public static readonly Option<string?> Heartbeat = new("--heartbeat")
    {
        Description = "With nothing changed, how often the server hears from the agent, e.g. 60s, 5m. Default: 60s.",
    };

    public static readonly Option<bool> FullReports = new("--full-reports")
    {
        Description = "Send every scan in full (ReportBatch) instead of only what changed (ReportHost), as agents before differential reporting did.",
    };

    public static readonly Option<string?> SpoolDir = new("--spool-dir")
    {
        Description = $"Where batches wait until the server acknowledges them. Default: {AgentSettings.SystemSpoolDirectory} "
            + "(not root: $XDG_STATE_HOME/porthistory-agent/spool).",
    };

    public static readonly Option<string?> SpoolMaxBytes = new("--spool-max-bytes")
    {
        Description = "Most disk the spool may take, e.g. 64MiB, 1GiB; the oldest batches are dropped beyond it. Default: 64MiB.",
    };

    public static readonly Option<string?> MetricsFile = new("--metrics-file")
    {
        Description = "Also write the agent's figures to this file in Prometheus text format (node_exporter textfile collector).",
    };

    /// <summary>--server, for every command that talks to the server.</summary>
    public static Option<string?> ServerOption() => new("--server")
    {
        Description = $"PortHistory server URL. Default: $PORTHISTORY_SERVER, else {AgentSettings.DefaultServer}.",
    };

    /// <summary>--allow-insecure, for every command that sends a token or secret to the server.</summary>
    public static Option<bool> AllowInsecureOption() => new("--allow-insecure")
    {
        Description = "Allow a plain http:// server that is not on this host (127.0.0.0/8, ::1, localhost): the token then travels unencrypted.",
    };
}
