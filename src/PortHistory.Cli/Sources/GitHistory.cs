using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace PortHistory.Cli.Sources;

/// <summary>One version of a file in a git history: the commit that wrote it, when, and the blob.</summary>
public sealed record GitVersion(string Commit, DateTimeOffset CommittedAt, string Blob);

/// <summary>
/// The history of one registry file in a git repository, read with the git command: the commits that changed it,
/// oldest first along the first-parent line, one version per distinct blob. Shelling out keeps every repository
/// format and transport git knows; the file's bytes come from `git cat-file`, byte for byte.
/// </summary>
public sealed class GitHistory(string repository)
{
    /// <summary>The names registry files go by in the mirrors that track them.</summary>
    public static readonly IReadOnlyList<string> KnownNames =
        ["service-names-port-numbers.xml", "service-names-port-numbers.csv", "port-numbers", "port-numbers.txt", "port-numbers.dist"];

    public string Repository { get; } = Path.GetFullPath(repository);

    /// <summary>The registry file to follow: the one given, or the single file under a known name in HEAD.</summary>
    public async Task<string> ResolvePathAsync(string? path, CancellationToken cancellationToken)
    {
        await GitAsync(["rev-parse", "--git-dir"], cancellationToken);
        if (path is not null) return path.Replace('\\', '/').TrimStart('/');
        var files = Encoding.UTF8.GetString(await GitAsync(["ls-tree", "-r", "--name-only", "HEAD"], cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => KnownNames.Contains(f.Split('/')[^1], StringComparer.Ordinal))
            .ToList();
        return files.Count switch
        {
            1 => files[0],
            0 => throw new UsageException($"{Repository} has no registry file under a known name ({string.Join(", ", KnownNames)}) in HEAD: give --path"),
            _ => throw new UsageException($"{Repository} has several registry files ({string.Join(", ", files)}): give --path"),
        };
    }

    /// <summary>Every distinct version of the file, oldest first; commits that deleted it, or wrote the blob of the version before, are left out.</summary>
    public async Task<IReadOnlyList<GitVersion>> VersionsAsync(string path, CancellationToken cancellationToken)
    {
        var log = Encoding.UTF8.GetString(await GitAsync(["log", "--first-parent", "--reverse", "--format=%H%x09%cI", "--", path], cancellationToken));
        var versions = new List<GitVersion>();
        foreach (var line in log.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            if (fields.Length != 2) continue;
            var blob = await BlobAsync(fields[0], path, cancellationToken);
            if (blob is null || (versions.Count > 0 && versions[^1].Blob == blob)) continue;
            versions.Add(new GitVersion(fields[0], DateTimeOffset.Parse(fields[1], CultureInfo.InvariantCulture), blob));
        }

        return versions;
    }

    public Task<byte[]> ReadAsync(GitVersion version, CancellationToken cancellationToken) => GitAsync(["cat-file", "blob", version.Blob], cancellationToken);

    private async Task<string?> BlobAsync(string commit, string path, CancellationToken cancellationToken)
    {
        try
        {
            return Encoding.ASCII.GetString(await GitAsync(["rev-parse", "--verify", "--quiet", $"{commit}:{path}"], cancellationToken)).Trim();
        }
        catch (SourceException)
        {
            // Not in this commit: the commit deleted it.
            return null;
        }
    }

    private async Task<byte[]> GitAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(Repository);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SourceException("git could not be started", isUsage: false);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SourceException($"git could not be run ({e.Message}); --git needs the git command", isUsage: false, e);
        }

        using (process)
        {
            using var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output, cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await Task.WhenAll(copy, errors);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                var message = (await errors).Trim();
                throw new SourceException($"git {string.Join(' ', arguments)} in {Repository}: {(message.Length > 0 ? message : $"exit code {process.ExitCode}")}",
                    isUsage: arguments[0] == "rev-parse");
            }

            return output.ToArray();
        }
    }
}
