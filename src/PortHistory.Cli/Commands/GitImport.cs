using System.Security.Cryptography;
using Google.Protobuf.WellKnownTypes;
using PortHistory.Cli.Output;
using PortHistory.Cli.Sources;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Commands;

/// <summary>
/// `import --git DIR [--path FILE]`: every distinct version of a registry file in a git history, oldest first, one
/// generation each, dated by the file's own date where its format has one (else the commit's). Versions the server
/// holds already (by SHA-256) are skipped, so a rerun after an interruption goes on where it stopped. A version dated
/// before one imported earlier in the walk (a rewritten or reordered history) is imported with a remark saying so: the
/// server orders editions by date, whatever the order they come in.
/// </summary>
internal static class GitImport
{
    public static async Task RunAsync(CommandContext context, ServerRegistrySource server, string repository, string? path, bool json,
        CancellationToken cancellationToken)
    {
        var git = new GitHistory(repository);
        var file = await git.ResolvePathAsync(path, cancellationToken);
        var versions = await git.VersionsAsync(file, cancellationToken);
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var edition in await server.ListEditionSummariesAsync(cancellationToken)) known[edition.Sha256] = edition.Id;
        var view = new GitImportView(context.Output, json, versions.Count);
        view.Started(git.Repository, file);

        var scratch = Directory.CreateTempSubdirectory("porthistory-git-");
        var refused = 0;
        DateOnly? newest = null;
        try
        {
            for (var i = 0; i < versions.Count; i++)
            {
                var version = versions[i];
                var bytes = await git.ReadAsync(version, cancellationToken);
                var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
                RegistryEdition parsed;
                try
                {
                    parsed = EditionReader.Read(new EditionContent(bytes, Path.GetFileName(file)));
                }
                catch (EditionFormatException e)
                {
                    refused++;
                    view.Version(i, version, null, "refused", $"not a readable edition: {e.Message}");
                    continue;
                }

                // The file's own date where its format has one (XML <updated>, "last updated", an RFC's); else the commit's.
                var ownDate = parsed.DateSource == EditionDateSource.Content;
                var date = ownDate ? parsed.EffectiveDate : DateOnly.FromDateTime(version.CommittedAt.UtcDateTime);
                var remark = newest is { } seen && date < seen
                    ? $"out of order in the git history: dated {date:yyyy-MM-dd}, after a version dated {seen:yyyy-MM-dd} (commit {version.Commit[..12]})"
                    : null;
                newest = newest is { } before && before > date ? before : date;
                if (known.TryGetValue(sha256, out var existing))
                {
                    view.Version(i, version, existing, "already imported", null);
                    continue;
                }

                var header = new ImportEditionHeader
                {
                    FileName = Path.GetFileName(file),
                    EffectiveDate = ownDate ? null : date.ToProto(),
                    Origin = $"git {git.Repository} {version.Commit} {file}",
                    RetrievedAt = Timestamp.FromDateTimeOffset(version.CommittedAt),
                    RevisionOfDay = true,
                    Remark = remark ?? "",
                };
                var scratchFile = Path.Combine(scratch.FullName, sha256);
                await File.WriteAllBytesAsync(scratchFile, bytes, cancellationToken);
                try
                {
                    var last = await server.Administration.ImportAsync(scratchFile, header, _ => { }, cancellationToken);
                    known[sha256] = last.Edition?.Id ?? sha256;
                    view.Version(i, version, last.Edition?.Id, last.Stage == ImportStage.AlreadyImported ? "already imported" : $"committed in generation {last.Generation}",
                        remark);
                }
                catch (SourceException e) when (e.IsUsage)
                {
                    // The server refused this version (a malformed file): the others go on.
                    refused++;
                    view.Version(i, version, null, "refused", e.Message);
                }
                finally
                {
                    File.Delete(scratchFile);
                }
            }
        }
        finally
        {
            scratch.Delete(recursive: true);
        }

        view.Finished(refused);
        if (refused > 0) throw new SourceException($"{refused} of {versions.Count} versions were refused", isUsage: false);
    }

    /// <summary>One line per version (NDJSON with --json).</summary>
    private sealed class GitImportView(TextWriter output, bool json, int total)
    {
        private void Line(object value) => output.WriteLine(System.Text.Json.JsonSerializer.Serialize(value, Json.CompactOptions));

        public void Started(string repository, string file)
        {
            if (json) Line(new { @event = "start", repository, file, versions = total });
            else output.WriteLine($"{repository}: {file}, {total} distinct version(s)");
        }

        public void Version(int index, GitVersion version, string? edition, string outcome, string? note)
        {
            if (json)
            {
                Line(new { @event = "version", index = index + 1, total, commit = version.Commit, committed = version.CommittedAt, edition, outcome, note });
                return;
            }

            output.WriteLine($"[{index + 1}/{total}] {version.Commit[..12]} {version.CommittedAt:yyyy-MM-dd} {edition ?? "-"}: {outcome}{(note is null ? "" : $" ({note})")}");
        }

        public void Finished(int refused)
        {
            if (json) Line(new { @event = "done", versions = total, refused });
            else output.WriteLine(refused == 0 ? "done" : $"done; {refused} version(s) refused");
        }
    }
}
