using System.CommandLine;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Commands;

/// <summary>Verbs that only make sense against a server: import, observed usage, discrepancies, tokens, expectations.</summary>
public static class ServerCommands
{
    public static IEnumerable<Command> Build(CommandContext context)
    {
        yield return Import(context);
        yield return RebuildCommand.Build(context);
        yield return Observed(context);
        yield return Discrepancies(context);
        yield return Watch(context);
        yield return Token(context);
        yield return ExpectationCommands.Build(context);
    }

    internal static ServerRegistrySource RequireServer(IRegistrySource? source, string verb) => source as ServerRegistrySource
        ?? throw new UsageException($"{verb} needs a server: pass --server URL (or set PORTHISTORY_SERVER)");

    private static Command Observed(CommandContext context)
    {
        var port = new Argument<string>("port") { Description = "Port number 0-65535." };
        var command = new Command("observed", "What fleets observe on a port (processes, hosts, first/last seen) and the registry-versus-reality verdicts.")
        {
            port, CliOptions.Transport,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "observed");
            var answer = await server.Observations.GetObservedAsync(
                CliOptions.ParsePort(parse.GetValue(port)), CliOptions.ParseTransport(parse.GetValue(CliOptions.Transport)), cancel);
            ObservationRenderers.Observed(context.Output, answer, json);
        }));
        return command;
    }

    private static Command Discrepancies(CommandContext context)
    {
        var verdict = new Option<string[]>("--verdict")
        {
            Description = $"Only these verdicts ({string.Join(", ", ObservationViews.VerdictWords)}); repeatable. Default: squatter, unregistered, ghost, unexpected.",
            AllowMultipleArgumentsPerToken = false,
        };
        var range = new Option<string?>("--range") { Description = "Port range (default 0-65535)." };
        var command = new Command("discrepancies", "Fleet-wide ports where registry and reality differ, in port order.")
        {
            verdict, range, CliOptions.Transport,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "discrepancies");
            var kinds = (parse.GetValue(verdict) ?? []).Select(ObservationViews.ParseVerdict).ToList();
            var rows = server.Observations.ListDiscrepanciesAsync(kinds, CliOptions.ParseRange(parse.GetValue(range), "--range"),
                CliOptions.ParseTransport(parse.GetValue(CliOptions.Transport)), cancel);
            await ObservationRenderers.DiscrepanciesAsync(context.Output, rows, json, cancel);
        }));
        return command;
    }

    private static Command Watch(CommandContext context)
    {
        var ports = new Option<string[]>("--port") { Description = "Only these ports or ranges (770-777); repeatable.", AllowMultipleArgumentsPerToken = false };
        var transports = new Option<string[]>("--transport", "-t") { Description = "Only tcp, udp, sctp or dccp; repeatable.", AllowMultipleArgumentsPerToken = false };
        var kinds = new Option<string[]>("--kind")
        {
            Description = $"Only these events ({string.Join(", ", WatchViews.KindWords)}); repeatable. Default: all but the host-* ones.",
            AllowMultipleArgumentsPerToken = false,
        };
        var verdicts = new Option<string[]>("--verdict")
        {
            Description = $"Only events whose old or new verdict is one of these ({string.Join(", ", ObservationViews.VerdictWords)}); repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var processes = new Option<string[]>("--process") { Description = "Only events naming this process; repeatable.", AllowMultipleArgumentsPerToken = false };
        var since = new Option<string?>("--since") { Description = "Start after this cursor (the last one printed); 0 for the oldest kept. Default: from now." };
        var command = new Command("watch", "Print events as they happen: new processes, verdict changes, ghosts' first listeners, assignment changes; one line each (NDJSON with --json). Reconnects after the last cursor when the server is unavailable.")
        {
            ports, transports, kinds, verdicts, processes, since,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "watch");
            var request = new WatchRequest();
            request.Ports.AddRange((parse.GetValue(ports) ?? []).Select(p => CliOptions.ParseRange(p, "--port")!.Value.ToProto()));
            request.Transports.AddRange((parse.GetValue(transports) ?? []).Select(t => CliOptions.ParseTransport(t)!.Value.ToProto()));
            request.Kinds.AddRange(parse.GetValue(kinds) is { Length: > 0 } asked ? asked.Select(WatchViews.ParseKind) : WatchViews.DefaultKinds);
            request.Verdicts.AddRange((parse.GetValue(verdicts) ?? []).Select(ObservationViews.ParseVerdict));
            request.ProcessNames.AddRange(parse.GetValue(processes) ?? []);
            if (parse.GetValue(since) is { } cursor)
            {
                request.AfterCursor = ulong.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var after)
                    ? after
                    : throw new UsageException($"--since must be a cursor (a number), got \"{cursor}\"");
            }

            await foreach (var e in server.Observations.WatchAsync(request, message => context.Error.WriteLine($"watch: {message}"), cancel))
            {
                WatchViews.Write(context.Output, e, json);
                await context.Output.FlushAsync(cancel);
            }
        }));
        return command;
    }

    private static Command Token(CommandContext context)
    {
        var name = new Argument<string>("name") { Description = "A name to recognise the token by, e.g. \"agent web-12\"." };
        var role = new Option<string>("--role") { Description = "agent (report sightings for any host), reader (queries), admin, or enroll (an enrollment secret: agents get per-host credentials with it).", Required = true };
        var issue = new Command("issue", "Issue a token; its secret is shown once.") { name, role };
        issue.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "token issue");
            var token = await server.Administration.IssueTokenAsync(parse.GetValue(name)!, ObservationViews.ParseRole(parse.GetValue(role)!), cancel);
            ObservationRenderers.Token(context.Output, token, json);
        }));

        var id = new Argument<string>("id") { Description = "Token id (from token list).", Arity = ArgumentArity.ZeroOrOne };
        var host = new Option<string>("--host") { Description = "Revoke every live credential of this host_ref instead (it may enroll again)." };
        var revoke = new Command("revoke", "Revoke a token (and the credentials rotated from it), or a host's credentials; refused at once.") { id, host };
        revoke.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "token revoke");
            var (tokenId, hostRef) = (parse.GetValue(id), parse.GetValue(host));
            if ((tokenId is null) == (hostRef is null)) throw new UsageException("token revoke: give a token id or --host REF (one of them)");
            if (hostRef is not null) ObservationRenderers.Tokens(context.Output, await server.Administration.RevokeHostAsync(hostRef, cancel), json);
            else ObservationRenderers.Token(context.Output, await server.Administration.RevokeTokenAsync(tokenId!, cancel), json);
        }));

        var hosts = new Argument<string[]>("host-ref") { Description = "host_refs to approve for enrollment.", Arity = ArgumentArity.OneOrMore };
        var approve = new Command("approve", "Approve hosts for enrollment (PortHistory:Enrollment:Approval allow-list or admin).") { hosts };
        approve.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "token approve");
            var approved = await server.Administration.ApproveHostsAsync(parse.GetValue(hosts)!, cancel);
            context.Output.WriteLine(json ? $"{{\"approved\":{approved}}}" : $"approved {approved} host(s)");
        }));

        var pending = new Command("pending", "Hosts waiting for approval to enroll, then approved ones.");
        pending.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "token pending");
            foreach (var entry in await server.Administration.ListEnrollmentHostsAsync(cancel))
            {
                context.Output.WriteLine(json
                    ? Google.Protobuf.JsonFormatter.Default.Format(entry)
                    : $"{(entry.Approved ? "approved" : "waiting"),-9} {entry.HostRef}  {(entry.Approved ? $"by {entry.ApprovedBy}" : $"asked {entry.RequestedAt?.ToDateTime():u} with {entry.RequestedBy}")}");
            }
        }));

        var list = new Command("list", "List tokens (never their secrets).");
        list.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "token list");
            ObservationRenderers.Tokens(context.Output, await server.Administration.ListTokensAsync(cancel), json);
        }));

        return new Command("token", "Access tokens and host enrollment (admin role).") { issue, revoke, list, approve, pending };
    }

    private static Command Import(CommandContext context)
    {
        var paths = new Argument<string[]>("path") { Description = "Edition file(s) or directories of edition files.", Arity = ArgumentArity.ZeroOrMore };
        var git = new Option<string?>("--git")
        {
            Description = "A git repository that tracked a registry file: import every distinct version in its history, oldest first, one generation each (a rerun skips what is there).",
        };
        var gitPath = new Option<string?>("--path") { Description = "With --git: the file in the repository (default: the one registry file in HEAD)." };
        var format = new Option<string?>("--format") { Description = "Edition format, when detection should not decide." };
        var date = new Option<string?>("--date") { Description = "Effective date (yyyy-MM-dd) for formats without one." };
        var id = new Option<string?>("--id") { Description = "Edition id (only with a single file)." };
        var onServer = new Option<bool>("--on-server") { Description = "The paths are on the server's file system: send the path, not the bytes." };
        var command = new Command("import", "Import edition files into the server, or a git history of one; the same file twice changes nothing.")
        {
            paths, format, date, id, onServer, git, gitPath,
        };
        command.SetAction((parse, cancel) => context.RunAsync(parse, cancel, async (source, json) =>
        {
            var server = RequireServer(source, "import");
            if (parse.GetValue(git) is { } repository)
            {
                if (parse.GetValue(paths) is { Length: > 0 } || parse.GetValue(format) is not null || parse.GetValue(date) is not null || parse.GetValue(id) is not null ||
                    parse.GetValue(onServer))
                {
                    throw new UsageException("--git takes no paths and no --format, --date, --id or --on-server (each version is dated by itself)");
                }

                await GitImport.RunAsync(context, server, repository, parse.GetValue(gitPath), json, cancel);
                return;
            }

            if (parse.GetValue(gitPath) is not null) throw new UsageException("--path needs --git");
            if (parse.GetValue(paths) is not { Length: > 0 }) throw new UsageException("import needs a path (a file or a directory), or --git DIR");
            var files = parse.GetValue(paths)!.SelectMany(IEnumerable<string> (p) => Directory.Exists(p)
                ? Directory.EnumerateFiles(p).Where(OfflineRegistrySource.IsEditionFile).Order(StringComparer.Ordinal)
                : [p]).ToList();
            var remote = parse.GetValue(onServer);
            foreach (var file in files.Where(f => !remote && !File.Exists(f))) throw new UsageException($"no such file: {file}");
            if (parse.GetValue(id) is not null && files.Count != 1) throw new UsageException("--id needs exactly one file");

            var header = new ImportEditionHeader
            {
                EffectiveDate = CliOptions.ParseDate(parse.GetValue(date), "--date")?.ToProto(),
                EditionId = parse.GetValue(id) ?? "",
            };
            if (parse.GetValue(format) is { } formatText)
            {
                if (!Registry.Model.EditionFileFormats.TryParse(formatText, out var parsed)) throw new UsageException($"unknown format \"{formatText}\"");
                header.Format = parsed.ToProto();
            }

            // Sent together: the server applies editions that arrive close together in one generation.
            var reporter = context.ImportReporter(json);
            var results = await reporter.ShowAsync(files, () => Task.WhenAll(files.Select(async Task<ImportOutcome> (file) =>
            {
                var fileHeader = header.Clone();
                fileHeader.FileName = Path.GetFileName(file);
                if (remote) fileHeader.ServerPath = file;
                ImportOutcome outcome;
                try
                {
                    outcome = new ImportOutcome(file, await server.Administration.ImportAsync(file, fileHeader, progress => reporter.Progress(file, progress), cancel), null);
                }
                catch (SourceException e)
                {
                    outcome = new ImportOutcome(file, null, e.Message);
                }

                reporter.Finished(outcome);
                return outcome;
            })));

            var failed = results.Where(r => r.Error is not null).ToList();
            foreach (var failure in failed) await context.Error.WriteLineAsync($"error: {Path.GetFileName(failure.File)}: {failure.Error}");
            if (failed.Count > 0) throw new SourceException($"{failed.Count} of {results.Length} editions were not imported", isUsage: false);
        }));
        return command;
    }
}
