using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Import;

/// <summary>Why a path sent for a server-side import was refused; the message is safe to return to the caller.</summary>
public sealed class ImportPathException(string reason) : Exception(reason);

/// <summary>
/// Reads edition files named by path on the server (ImportEdition with server_path). Only regular files inside the
/// configured import directory are read, judged by the path the opened file really has (symbolic links and ".."
/// cannot lead out of it), and never more than the size limit, whatever the file claims: a caller with the admin
/// role cannot make the server read its secrets, a device or an endless stream.
/// </summary>
public sealed class ImportDirectory(IOptions<ImportOptions> options)
{
    private static readonly string[] SystemTrees = ["/dev/", "/proc/", "/sys/"];

    public async Task<(byte[] Bytes, string Source)> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var root = options.Value.ImportDirectory;
        if (string.IsNullOrWhiteSpace(root)) throw new ImportPathException("server-side import is off: no import directory is configured (PortHistory:Import:ImportDirectory)");
        var rootPath = RealDirectory(root);
        var requested = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(rootPath, path));
        // Checked by name before anything is opened (so nothing is told of files elsewhere), and again below by the
        // real path of what was opened (links).
        if (!Inside(requested, rootPath) && !Inside(requested, Path.GetFullPath(root).TrimEnd('/'))) throw Outside(path, rootPath);

        FileStream stream;
        try
        {
            stream = new FileStream(requested, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.Asynchronous });
        }
        catch (FileNotFoundException)
        {
            throw new ImportPathException($"no such file on the server: {path}");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ImportPathException($"no such file on the server: {path}");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ImportPathException($"the server cannot read {path} (permission denied)");
        }
        catch (IOException)
        {
            throw new ImportPathException($"the server cannot read {path}");
        }

        await using (stream)
        {
            // Where the opened file really is, after every link: checked on the open file, so nothing can swap it.
            var real = RealPathOf(stream) ?? requested;
            if (!Inside(real, rootPath) || SystemTrees.Any(t => real.StartsWith(t, StringComparison.Ordinal))) throw Outside(path, rootPath);

            var limit = options.Value.MaxEditionBytes;
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit) throw new ImportPathException($"{path} is larger than the limit of {limit} bytes");
                buffer.Write(chunk, 0, read);
            }

            return (buffer.ToArray(), real);
        }
    }

    private static bool Inside(string path, string directory) => path.StartsWith(directory + "/", StringComparison.Ordinal);

    private static ImportPathException Outside(string path, string directory) => new($"{path} is not inside the import directory {directory}");

    private static string RealDirectory(string directory)
    {
        var full = Path.GetFullPath(directory).TrimEnd('/');
        var target = new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true);
        return (target?.FullName ?? full).TrimEnd('/');
    }

    /// <summary>On Linux the open descriptor's link in /proc names the file's real path.</summary>
    private static string? RealPathOf(FileStream stream)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
