using System.CommandLine;
using Grpc.Net.Client;
using PortHistory.Agent.Enrolling;
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

    private static readonly Option<string?> Interval = new("--interval") { Description = "Time between scans, e.g. 60s, 5m, 1h. Default: 60s." };

    private static readonly Option<int> BatchSize = new("--batch-size")
    {
        Description = "Most sightings per batch.",
        DefaultValueFactory = _ => AgentSettings.DefaultBatchSize,
    };

    private static readonly Option<bool> Once = new("--once")
    {
        Description = "Scan and send once; exit 0 only if every batch was acknowledged.",
    };

    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "Scan once and print the sightings; send nothing." };

    private static readonly Option<string> ProcRoot = new("--proc-root")
    {
        Description = "Where procfs is mounted (e.g. /host/proc in a container).",
        DefaultValueFactory = _ => "/proc",
    };

    private static readonly Option<string?> EnrollSecretFile = EnrollCommands.EnrollSecretFileOption();

    private static readonly Option<string> CredentialFile = EnrollCommands.CredentialFileOption();

    public static Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken, string defaultConfigFile = AgentConfigFile.DefaultPath)
    {
        var root = new RootCommand("porthistory-agent: reports which processes listen on which ports of this Linux host to a PortHistory server.")
        {
            Server, Token, TokenFile, HostRef, Interval, BatchSize, Once, DryRun, ProcRoot, EnrollSecretFile, CredentialFile, AgentConfigFile.Option,
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
                    Environment.GetEnvironmentVariable);
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
        try
        {
            if (settings.Once) return await CycleAsync(settings, scanner, sender, output, error, cancellationToken) ? Ok : Failed;

            await output.WriteLineAsync($"reporting to {settings.Server} every {settings.Interval.TotalSeconds:0.###}s as host {settings.HostRef}; Ctrl-C stops");
            using var timer = new PeriodicTimer(settings.Interval);
            do
            {
                await CycleAsync(settings, scanner, sender, output, error, cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));

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

    /// <summary>One scan and its sending; true when every batch was acknowledged.</summary>
    private static async Task<bool> CycleAsync(
        AgentSettings settings, SightingScanner scanner, BatchSender sender, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ScanResult scan;
        try
        {
            scan = scanner.Scan(settings.HostRef, DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"scan failed: {e.Message}");
            return false;
        }

        var batches = BatchSender.Split(scan.Sightings, settings.BatchSize);
        await output.WriteLineAsync($"scan: {scan.Sightings.Count} sightings in {batches.Count} batches"
            + (scan.Unowned > 0 ? $"; {scan.Unowned} sockets without a visible process{(scan.Privileged ? "" : " (agent unprivileged)")}" : ""));
        var summary = await sender.SendAsync(batches, cancellationToken);
        await output.WriteLineAsync($"sent: {summary.Acknowledged} of {summary.Batches} batches acknowledged, {summary.Accepted} sightings accepted, "
            + $"{summary.Rejected} rejected, {summary.Duplicates} duplicate batches");
        return summary.AllAcknowledged;
    }
}
