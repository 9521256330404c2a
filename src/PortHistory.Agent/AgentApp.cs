using System.CommandLine;
using Grpc.Net.Client;
using PortHistory.Agent.Enrolling;
using PortHistory.Agent.Health;
using PortHistory.Agent.Reporting;
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

    public static Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken, string defaultConfigFile = AgentConfigFile.DefaultPath)
    {
        AgentConfigFile? config = null;
        var root = Command(output, error, () => config);
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

    /// <summary>The agent's command line: scanning and reporting, with the status, enroll and rotate-credential subcommands.</summary>
    /// <param name="config">The settings file applied to the command line, once it is parsed: where a setting came from.</param>
    internal static RootCommand Command(TextWriter output, TextWriter error, Func<AgentConfigFile?> config)
    {
        var status = new Command("status", "Print the running agent's figures: last scan, last acknowledged send, spool depth, records lost.")
        {
            AgentOptions.SpoolDir,
        };
        status.SetAction(async (parse, _) =>
        {
            try
            {
                var directory = AgentSettings.ResolveSpoolDirectory(parse.GetValue(AgentOptions.SpoolDir), Environment.GetEnvironmentVariable);
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
            AgentOptions.Server, AgentOptions.Token, AgentOptions.TokenFile, AgentOptions.HostRef, AgentOptions.HostGroup, AgentOptions.Interval,
            AgentOptions.BatchSize, AgentOptions.Once, AgentOptions.DryRun, AgentOptions.ProcRoot, AgentOptions.EnrollSecretFile,
            AgentOptions.CredentialFile, AgentOptions.SpoolDir, AgentOptions.SpoolMaxBytes, AgentOptions.MetricsFile, AgentOptions.AllowInsecure,
            AgentOptions.Heartbeat, AgentOptions.FullReports, AgentConfigFile.Option, status,
        };
        foreach (var command in EnrollCommands.Build(output, error)) root.Subcommands.Add(command);
        root.SetAction(async (parse, cancel) =>
        {
            try
            {
                var settings = Resolve(parse, config());
                var enrollSecretFile = parse.GetValue(AgentOptions.EnrollSecretFile);
                if (enrollSecretFile is not null && !settings.DryRun)
                {
                    settings = settings with
                    {
                        Token = await EnrollCommands.CredentialAsync(
                            settings.Server, settings.HostRef, enrollSecretFile, parse.GetValue(AgentOptions.CredentialFile)!, output, error, cancel),
                    };
                }

                return await RunAsync(settings, output, error, cancel);
            }
            catch (UsageException e)
            {
                await error.WriteLineAsync($"error: {config()?.Locate(e.Message) ?? e.Message}");
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
        return root;
    }

    /// <summary>The settings of the root command's parse; <paramref name="config"/> tells which values came from the settings file.</summary>
    internal static AgentSettings Resolve(ParseResult parse, AgentConfigFile? config)
    {
        var enrollSecretFile = parse.GetValue(AgentOptions.EnrollSecretFile);
        if (enrollSecretFile is not null && (parse.GetValue(AgentOptions.Token) ?? parse.GetValue(AgentOptions.TokenFile)) is not null)
        {
            throw new UsageException("--enroll-secret-file reports with the host's own credential: pass it without --token or --token-file");
        }

        // Enrolling: the token is the stored credential, known only once the settings (server, host) are.
        return AgentSettings.Resolve(parse.GetValue(AgentOptions.Server), enrollSecretFile is null ? parse.GetValue(AgentOptions.Token) : "(enrolling)",
            enrollSecretFile is null ? parse.GetValue(AgentOptions.TokenFile) : null, parse.GetValue(AgentOptions.HostRef),
            parse.GetValue(AgentOptions.Interval), parse.GetValue(AgentOptions.BatchSize), parse.GetValue(AgentOptions.Once),
            parse.GetValue(AgentOptions.DryRun), parse.GetValue(AgentOptions.ProcRoot)!, Environment.GetEnvironmentVariable,
            spoolDirectory: parse.GetValue(AgentOptions.SpoolDir), spoolMaxBytes: parse.GetValue(AgentOptions.SpoolMaxBytes),
            metricsFile: parse.GetValue(AgentOptions.MetricsFile), hostGroup: parse.GetValue(AgentOptions.HostGroup),
            allowInsecure: parse.GetValue(AgentOptions.AllowInsecure), sourceOf: name => config?.SourceOf(name),
            heartbeat: parse.GetValue(AgentOptions.Heartbeat), fullReports: parse.GetValue(AgentOptions.FullReports));
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
        var client = new Sightings.SightingsClient(channel);
        var senders = (new BatchSender(client, settings.Token!, output, error), new HostReportSender(client, settings.Token!, error));
        return await RunAsync(settings, now => scanner.Scan(settings.HostRef, now), senders, new AgentLog(output, error), cancellationToken);
    }

    /// <summary>The scan-spool-send cycle with a given scan and senders (tests give their own).</summary>
    public static async Task<int> RunAsync(
        AgentSettings settings, Func<DateTimeOffset, ScanResult> scan, (BatchSender Batches, HostReportSender Reports) senders, AgentLog log,
        CancellationToken cancellationToken, Func<DateTimeOffset>? clock = null, Random? random = null)
    {
        var (output, error) = (log.Output, log.Error);
        using var reporter = Reporter.Open(settings, scan, senders, log, clock, random);
        try
        {
            if (settings.Once)
            {
                // One scan, one report (a heartbeat if nothing changed); what earlier runs left in the spool is sent too,
                // and the run succeeds only when everything was delivered.
                var scanned = reporter.Scan();
                var drained = await reporter.DrainAsync(cancellationToken, once: true);
                return scanned && drained.Complete && drained.Refused == 0 ? Ok : Failed;
            }

            await output.WriteLineAsync($"reporting to {settings.Server} every {settings.Interval.TotalSeconds:0.###}s as host {settings.HostRef}, "
                + (reporter.Reporting.Mode == ReportMode.Differential
                    ? $"changes only (epoch {reporter.Reporting.Epoch.Id:x16}, heartbeat every {settings.Heartbeat.TotalSeconds:0.###}s)"
                    : "every scan in full")
                + $", spooling in {settings.SpoolDirectory}; Ctrl-C stops");
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
