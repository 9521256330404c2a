using System.Diagnostics;
using PortHistory.Cli;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// `porthistory import --git` against a small repository built from the real editions: the XML and the CSV each
/// committed more than once, a commit that touches neither, and a commit dated before the one it follows that puts an
/// older CSV in (a rewritten history). Interrupted after its first version, the import is run again and goes on from there.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class GitImportTests(PostgresFixture fixture) : IDisposable
{
    private const string Xml = "service-names-port-numbers.xml";
    private const string Csv = "service-names-port-numbers.csv";

    private readonly DirectoryInfo _repository = Directory.CreateTempSubdirectory("porthistory-git-");

    public void Dispose() => _repository.Delete(recursive: true);

    [Fact]
    public async Task Every_version_of_a_file_is_imported_in_order_and_a_rerun_after_an_interruption_goes_on_where_it_stopped()
    {
        Git("init", "--quiet", "--initial-branch=main");
        Commit("2024-05-22T10:00:00Z", (Xml, "service-names-port-numbers_2024-04-30.xml"), (Csv, "service-names-port-numbers_2024-04-30.csv"));
        Commit("2024-06-01T10:00:00Z", ("README", null));
        Commit("2026-04-26T10:00:00Z", (Csv, "service-names-port-numbers_2026-04-24.csv"));
        Commit("2026-08-19T10:00:00Z", (Xml, "service-names-port-numbers_2026-08-17.xml"));
        // A rewritten history: a commit dated before the one it follows, with an older file.
        Commit("2025-06-01T10:00:00Z", (Csv, "service-names-port-numbers_2017-02-24.csv"));

        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("git"));
        await server.StartAsync();
        string[] connect = ["--server", server.Address, "--token", server.AdminToken];

        // Interrupted once the first version is committed.
        using var interrupt = new CancellationTokenSource();
        var partial = new InterruptingWriter("[1/2]", interrupt);
        var stopped = await CliApp.RunAsync([.. connect, "import", "--git", _repository.FullName, "--path", Xml], partial, TextWriter.Null, interrupt.Token);
        Assert.NotEqual(0, stopped);
        Assert.Contains("[1/2]", partial.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("[2/2]", partial.ToString(), StringComparison.Ordinal);

        var (exit, output) = await RunAsync([.. connect, "import", "--git", _repository.FullName, "--path", Xml]);
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("[1/2]", StringComparison.Ordinal) && l.EndsWith("iana-xml-2024-04-30: already imported", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[2/2]", StringComparison.Ordinal) && l.Contains("iana-xml-2026-08-17: committed in generation", StringComparison.Ordinal));

        // The CSV has no date of its own: each version is dated by its commit, the rewritten one too, with a remark.
        (exit, output) = await RunAsync([.. connect, "import", "--git", _repository.FullName, "--path", Csv]);
        Assert.Equal(0, exit);
        Assert.Contains(output.Split('\n'), l => l.Contains("[3/3]", StringComparison.Ordinal) && l.Contains("iana-csv-2025-06-01: committed", StringComparison.Ordinal) &&
                                                 l.Contains("out of order in the git history: dated 2025-06-01, after a version dated 2026-04-26", StringComparison.Ordinal));
        var editions = (await new PortRegistry.PortRegistryClient(server.Channel).ListEditionsAsync(new ListEditionsRequest())).Editions;
        Assert.Equal(["iana-xml-2024-04-30", "iana-csv-2024-05-22", "iana-csv-2025-06-01", "iana-csv-2026-04-26", "iana-xml-2026-08-17"], editions.Select(e => e.Id));
        var commit = Git("rev-list", "-1", "HEAD~1").Trim();
        Assert.Equal($"git {_repository.FullName} {commit} {Xml}", editions.Single(e => e.Id == "iana-xml-2026-08-17").Origin);
        Assert.StartsWith("out of order in the git history", editions[2].Remark, StringComparison.Ordinal);
        // The 2024 CSV says what the XML of the same edition says.
        Assert.Equal(0u, editions[1].Changes);

        // Run again: nothing left to import.
        var again = await RunAsync([.. connect, "import", "--git", _repository.FullName, "--path", Xml]);
        Assert.Equal(2, again.Output.Split('\n').Count(l => l.EndsWith("already imported", StringComparison.Ordinal)));

        // What was received comes back byte for byte.
        var exported = Path.Combine(_repository.FullName, "exported.csv");
        Assert.Equal(0, (await RunAsync([.. connect, "editions", "export", "iana-csv-2026-04-26", "--output", exported])).Exit);
        Assert.Equal(RegistryData.SystemPortsOf("service-names-port-numbers_2026-04-24.csv"), await File.ReadAllBytesAsync(exported));
    }

    private static async Task<(int Exit, string Output)> RunAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error);
        return (exit, output + error.ToString());
    }

    /// <summary>
    /// Writes each file (a real edition's System Ports, or a line of text when none is named) and commits them at the
    /// given time. What is tested is how versions arrive; the whole files would stage 49,152 ports each time.
    /// </summary>
    private void Commit(string at, params (string Path, string? Edition)[] files)
    {
        foreach (var (path, edition) in files)
        {
            var target = Path.Combine(_repository.FullName, path);
            if (edition is null) File.AppendAllText(target, $"{at}\n");
            else File.WriteAllBytes(target, RegistryData.SystemPortsOf(edition));
            Git("add", path);
        }

        Git(["-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "--quiet", "-m", $"update {at}", "--date", at, "--", .. files.Select(f => f.Path)]);
    }

    private string Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _repository.FullName };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The commit's time as the committer's too: that is the date a version without one of its own takes.
        if (arguments.SkipWhile(a => a != "--date").Skip(1).FirstOrDefault() is { } date) start.Environment["GIT_COMMITTER_DATE"] = date;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', arguments)}: {error}");
        return output;
    }

    /// <summary>Collects output and cancels the run once a line containing <paramref name="marker"/> is complete.</summary>
    private sealed class InterruptingWriter(string marker, CancellationTokenSource interrupt) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.Contains(marker, StringComparison.Ordinal) == true) interrupt.Cancel();
        }
    }
}
