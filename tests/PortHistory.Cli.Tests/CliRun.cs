using System.Collections.Concurrent;
using System.Text.Json;
using PortHistory.Cli;
using PortHistory.Cli.Sources;
using PortHistory.Testing;

namespace PortHistory.Cli.Tests;

/// <summary>One run of the porthistory command line, in process, with what it wrote and its exit code.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    private static readonly ConcurrentDictionary<string, Lazy<OfflineRegistrySource>> SharedLoads = new();

    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error, loadEditions: LoadOnce);
        return new CliRun(exit, output.ToString(), error.ToString());
    }

    public JsonElement Json() => JsonDocument.Parse(Output).RootElement;

    /// <summary>
    /// Loading the sixteen shared editions takes a few seconds, so a test process loads each combination of the shared,
    /// read-only files once (through the real loader); anything else, such as a test's own temporary directory that it
    /// may change between runs, is loaded on every run.
    /// </summary>
    private static OfflineRegistrySource LoadOnce(IReadOnlyList<string> directories, IReadOnlyList<string> files)
    {
        if (!directories.Concat(files).All(IsSharedReadOnly)) return OfflineRegistrySource.Load(directories, files);
        var key = string.Join('\n', directories) + "\n--\n" + string.Join('\n', files);
        return SharedLoads.GetOrAdd(key, _ => new Lazy<OfflineRegistrySource>(() => OfflineRegistrySource.Load(directories, files))).Value;
    }

    private static bool IsSharedReadOnly(string path) =>
        Path.GetFullPath(path).StartsWith(Path.GetFullPath(RegistryData.Directory), StringComparison.Ordinal) ||
        path is LocalServiceTables.EtcServices or LocalServiceTables.NmapServices;
}
