using System.CommandLine;
using Grpc.Net.Client;
using PortHistory.Agent.Enrolling;
using PortHistory.Agent.Health;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent;

/// <summary>porthistory-agent's command line, and its scan-and-send cycle.</summary>
public static class AgentApp
{
    public const int Ok = 0;

    /// <summary>Something was not acknowledged (--once), or a scan failed.</summary>
    public const int Failed = 1;

    public const int Usage = 2;

    /// <summary>The server refused the agent itself (token, role); restarting will not help until that is fixed.</summary>
    public const int Refused = 3;

    private static readonly Option<string?> Server = new("--server")
    {
        Description = $"PortHistory server URL. Default: $PORTHISTORY_SERVER, else {AgentSettings.DefaultServer}.",
    };

    private static readonly Option<string?> Token = new("--token") { Description = "Bearer token with the agent role. Default: $PORTHISTORY_TOKEN." };

    private static readonly Option<string?> TokenFile = new("--token-file") { Description = "File holding the token; read again before every send." };

    private static readonly Option<string?> HostRef = new("--host-ref")
    {
        Description = "Pseudonymous host id to report. Default: derived from /etc/machine-id (never the hostname).",
    };

    private static readonly Option<string?> HostGroup = new("--host-group")
    {
        Description = "Group this host is reported in (e.g. db, edge), for expectations set per group. Default: none.",
    };

    private static readonly Option<string?> Interval = new("--interval") { Description = "Time between scans, e.g. 60s, 5m, 1h. Default: 60s." };

    private static readonly Option<int> BatchSize = new("--batch-size")
    {
        Description = "Most sightings per batch.",
        DefaultValueFactory = _ => AgentSettings.DefaultBatchSize,
    };

    private static readonly Option<bool> Once = new("--once")
    {
        Description = "Scan once and send what the spool holds; exit 0 only if every batch was acknowledged.",
    };

    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "Scan once and print the sightings; send nothing." };

    private static readonly Option<string> ProcRoot = new("--proc-root")
    {
        Description = "Where procfs is mounted (e.g. /host/proc in a container).",
        DefaultValueFactory = _ => "/proc",
    };

    private static readonly Option<string?> EnrollSecretFile = EnrollCommands.EnrollSecretFileOption();

    private static readonly Option<string> CredentialFile = EnrollCommands.CredentialFileOption();

    private static readonly Option<string?> SpoolDir = new("--spool-dir")
    {
        Description = $"Where batches wait until the server acknowledges them. Default: {AgentSettings.SystemSpoolDirectory} "
            + "(not root: $XDG_STATE_HOME/porthistory-agent/spool).",
    };

    private static readonly Option<string?> SpoolMaxBytes = new("--spool-max-bytes")
    {
        Description = "Most disk the spool may take, e.g. 64MiB, 1GiB; the oldest batches are dropped beyond it. Default: 64MiB.",
    };

    private static readonly Option<string?> MetricsFile = new("--metrics-file")
    {
        Description = "Also write the agent's figures to this file in Prometheus text format (node_exporter textfile collector).",
    };

    public static Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken, string defaultConfigFile = AgentConfigFile.DefaultPath)
    {
        var status = new Command("status", "Print the running agent's figures: last scan, last acknowledged send, spool depth, records lost.")
        {
            SpoolDir,
        };
        status.SetAction(async (parse, _) =>
        {
            try
            {
                var directory = AgentSettings.ResolveSpoolDirectory(parse.GetValue(SpoolDir), Environment.GetEnvironmentVariable);
                return await PrintStatusAsync(directory, output, error);
            }
            catch (UsageException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return Usage;
            }
        });

        var root = new RootCommand("porthistory-agent: reports which processes listen on which ports of this Linux host to a PortHistory server.")
        {
            Server, Token, TokenFile, HostRef, HostGroup, Interval, BatchSize, Once, DryRun, ProcRoot, EnrollSecretFile, CredentialFile,
            SpoolDir, SpoolMaxBytes, MetricsFile, AgentConfigFile.Option, status,
        };
        foreach (var command in EnrollCommands.Build(output, error)) root.Subcommands.Add(command);
        AgentConfigFile? config = null;
        root.SetAction(async (parse, cancel) =>
        {
            try
            {
                var enrollSecretFile = parse.GetValue(EnrollSecretFile);
                if (enrollSecretFile is not null && (parse.GetValue(Token) ?? parse.GetValue(TokenFile)) is not null)
                {
                    throw new UsageException("--enroll-secret-file reports with the host's own credential: pass it without --token or --token-file");
                }

                // Enrolling: the token is the stored credential, known only once the settings (server, host) are.
                var settings = AgentSettings.Resolve(parse.GetValue(Server), enrollSecretFile is null ? parse.GetValue(Token) : "(enrolling)",
                    enrollSecretFile is null ? parse.GetValue(TokenFile) : null, parse.GetValue(HostRef),
                    parse.GetValue(Interval), parse.GetValue(BatchSize), parse.GetValue(Once), parse.GetValue(DryRun), parse.GetValue(ProcRoot)!,
                    Environment.GetEnvironmentVariable, spoolDirectory: parse.GetValue(SpoolDir), spoolMaxBytes: parse.GetValue(SpoolMaxBytes),
                    metricsFile: parse.GetValue(MetricsFile), hostGroup: parse.GetValue(HostGroup));
                if (enrollSecretFile is not null && !settings.DryRun)
                {
                    settings = settings with
                    {
                        Token = await EnrollCommands.CredentialAsync(settings.Server, settings.HostRef, enrollSecretFile, parse.GetValue(CredentialFile)!, output, error, cancel),
                    };
                }

                return await RunAsync(settings, output, error, cancel);
            }
            catch (UsageException e)
            {
                await error.WriteLineAsync($"error: {config?.Locate(e.Message) ?? e.Message}");
                return Usage;
            }
            catch (ServerRefusedException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return Refused;
            }
            catch (Exception e) when (e is EnrollmentFailedException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return Failed;
            }
        });

        ParseResult parse;
        try
        {
            (parse, config) = AgentConfigFile.ParseCommandLine(root, args, defaultConfigFile);
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return Task.FromResult(Usage);
        }

        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors) error.WriteLine($"error: {config?.Locate(parseError.Message) ?? parseError.Message}");
            return Task.FromResult(Usage);
        }

        // Program handles SIGINT and SIGTERM itself and cancels the token.
        return parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken);
    }

    public static async Task<int> RunAsync(AgentSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var scanner = new SightingScanner(settings.ProcRoot);
        if (settings.DryRun)
        {
            SightingTable.Write(output, settings.HostRef, scanner.Scan(settings.HostRef, DateTimeOffset.UtcNow));
            return Ok;
        }

        using var channel = GrpcChannel.ForAddress(settings.Server);
        var sender = new BatchSender(new Sightings.SightingsClient(channel), settings.Token!, output, error);
        return await RunAsync(settings, now => scanner.Scan(settings.HostRef, now), sender, output, error, cancellationToken);
    }

    /// <summary>The scan-spool-send cycle with a given scan and sender (tests give their own).</summary>
    public static async Task<int> RunAsync(
        AgentSettings settings, Func<DateTimeOffset, ScanResult> scan, BatchSender sender, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        using var reporter = Reporter.Open(settings, scan, sender, output, error);
        try
        {
            if (settings.Once)
            {
                // --once sends what earlier runs left in the spool too, and succeeds only when the spool is empty.
                var scanned = reporter.Scan();
                var drained = await reporter.DrainAsync(cancellationToken);
                return scanned && drained.Complete && drained.Refused == 0 ? Ok : Failed;
            }

            await output.WriteLineAsync($"reporting to {settings.Server} every {settings.Interval.TotalSeconds:0.###}s as host {settings.HostRef}, "
                + $"spooling in {settings.SpoolDirectory}; Ctrl-C stops");
            await reporter.RunAsync(cancellationToken);
            return Ok;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping the loop is the normal way to end it; cutting a --once run short is not.
            await error.WriteLineAsync(settings.Once ? "cancelled" : "stopped");
            return settings.Once ? Failed : Ok;
        }
        catch (ServerRefusedException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return Refused;
        }
    }

    private static async Task<int> PrintStatusAsync(string spoolDirectory, TextWriter output, TextWriter error)
    {
        var path = Path.Combine(spoolDirectory, AgentStatus.FileName);
        if (AgentStatus.Read(path) is not { } status)
        {
            await error.WriteLineAsync($"error: no agent status in {path} (has the agent run with this --spool-dir?)");
            return Failed;
        }

        await output.WriteLineAsync($"spool directory:        {spoolDirectory}");
        status.Describe(output, DateTimeOffset.UtcNow);
        return Ok;
    }
}
