using System.Text.Json;
using Grpc.Core;
using PortHistory.Cli.Output;
using PortHistory.Contracts.V1;
using CsCheck;
using Spectre.Console;

namespace PortHistory.Cli.Tests;

/// <summary>
/// `import` shows what the server reports while it stages: one plain line per stage in logs, NDJSON with --json, and a
/// live bar on a terminal that leaves the same lines behind.
/// </summary>
public sealed class ImportProgressTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("porthistory-import-progress-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Plain_lines_show_staging_done_of_total_and_the_committed_generation_once_per_stage(int seed)
    {
        var (file, script, total, generation) = Scenario(seed);
        await using var server = await FakeGrpcServer.StartAsync(new ScriptedAdmin(script));

        var run = await CliRun.RunAsync("import", file, "--server", server.Address, "--token", "t");

        Assert.True(run.ExitCode == 0, run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith($"{Path.GetFileName(file)}: ", l));
        Assert.StartsWith($"{Path.GetFileName(file)}: ed-{seed}: 12 records, 0 warnings (received {new FileInfo(file).Length} bytes", lines[0]);
        Assert.Equal(
            [$"staging 0/{total} ports in generation {generation}", $"staging {total}/{total} ports in generation {generation}"],
            lines.Select(Text).Where(l => l.StartsWith("staging", StringComparison.Ordinal)));
        Assert.Equal($"ed-{seed}: committed in generation {generation}", Text(lines[^1]));

        // One line per stage (parsed, queued, staging start and end, indexing, committed), however many messages came.
        Assert.True(script.Count > 20);
        Assert.Equal(6, lines.Length);

        // The server's words are text, not terminal commands.
        Assert.DoesNotContain('\u001b', run.Output);
        Assert.Contains("writing the query index?[2J", run.Output);
    }

    [Fact]
    public async Task Json_is_one_progress_event_per_message_and_a_result_with_the_generation()
    {
        var (file, script, total, generation) = Scenario(4);
        await using var server = await FakeGrpcServer.StartAsync(new ScriptedAdmin(script));

        var run = await CliRun.RunAsync("import", file, "--server", server.Address, "--token", "t", "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        var events = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(script.Count, events.Count(e => e.GetProperty("event").GetString() == "progress"));
        var staging = events.Where(e => e.GetProperty("stage").GetString() == "staging").ToList();
        Assert.Equal(total, staging[^1].GetProperty("done").GetInt32());
        Assert.Equal(total, staging[^1].GetProperty("total").GetInt32());

        var result = events[^1];
        Assert.Equal("result", result.GetProperty("event").GetString());
        Assert.Equal(file, result.GetProperty("file").GetString());
        Assert.Equal("committed", result.GetProperty("stage").GetString());
        Assert.Equal(generation, result.GetProperty("generation").GetInt64());
        Assert.False(result.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task On_a_terminal_a_live_bar_runs_and_the_plain_lines_are_left_behind()
    {
        var (file, script, _, _) = Scenario(5);
        await using var server = await FakeGrpcServer.StartAsync(new ScriptedAdmin(script));
        var plain = await CliRun.RunAsync("import", file, "--server", server.Address, "--token", "t");

        using var screen = new StringWriter();
        var terminal = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            Interactive = InteractionSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Out = new AnsiConsoleOutput(screen),
        });
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(["import", file, "--server", server.Address, "--token", "t"], output, error, terminal: terminal);

        Assert.True(exit == 0, error.ToString());
        Assert.Equal(plain.Output, output.ToString());
        Assert.Contains('\u001b', screen.ToString());
        Assert.Contains(Path.GetFileName(file), screen.ToString());
    }

    [Fact]
    public async Task A_refused_file_is_a_result_with_its_error_and_exit_code_1()
    {
        var file = Path.Combine(_directory.FullName, "broken.txt");
        await File.WriteAllTextAsync(file, "not an edition");
        await using var server = await FakeGrpcServer.StartAsync(new ScriptedAdmin([Received(file)], new Status(StatusCode.InvalidArgument, "file: broken.txt:1: not an edition")));

        var run = await CliRun.RunAsync("import", file, "--server", server.Address, "--token", "t", "--json");

        Assert.Equal(1, run.ExitCode);
        var result = JsonDocument.Parse(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal("result", result.GetProperty("event").GetString());
        Assert.Contains("not an edition", result.GetProperty("error").GetString());
        Assert.Contains("broken.txt: file: broken.txt:1: not an edition", run.Error);
    }

    [Fact]
    public void Server_text_never_carries_control_or_format_characters_and_stays_bounded()
    {
        Gen.String.Sample(text =>
        {
            var shown = ServerText.Printable(text);
            return shown.Length <= ServerText.MaxLength + 1
                && !shown.Any(c => char.IsControl(c) || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format)
                && (text.Length > ServerText.MaxLength || shown.Length == text.Length);
        });
    }

    private static string Text(string line) => line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..];

    /// <summary>An edition file and what a server says while importing it: sizes and generation differ per seed.</summary>
    private (string File, List<ImportEditionProgress> Script, int Total, long Generation) Scenario(int seed)
    {
        var random = new Random(seed);
        var file = Path.Combine(_directory.FullName, $"edition-{seed}.txt");
        File.WriteAllBytes(file, [.. Enumerable.Range(0, random.Next(1, 3_000_000)).Select(i => (byte)('a' + i % 26))]);
        var total = random.Next(100, 20_000);
        var generation = (long)random.Next(2, 100_000);
        var id = $"ed-{seed}";

        List<ImportEditionProgress> script =
        [
            Received(file),
            new() { Stage = ImportStage.Parsed, Message = $"{id}: 12 records, 0 warnings" },
            new() { Stage = ImportStage.Queued, Message = $"{id} is queued for the next generation" },
            new() { Stage = ImportStage.Staging, Message = $"staging {total} changed ports in generation {generation}", Total = (uint)total, Generation = (ulong)generation },
        ];
        var step = Math.Max(1, total / 50);
        for (var done = step; done <= total; done += step)
        {
            script.Add(new() { Stage = ImportStage.Staging, Message = $"staged {done} of {total} ports", Done = (uint)done, Total = (uint)total, Generation = (ulong)generation });
        }

        if (total % step != 0)
        {
            script.Add(new() { Stage = ImportStage.Staging, Message = $"staged {total} of {total} ports", Done = (uint)total, Total = (uint)total, Generation = (ulong)generation });
        }

        script.Add(new() { Stage = ImportStage.Indexing, Message = "writing the query index\u001b[2J and committing", Done = (uint)total, Total = (uint)total, Generation = (ulong)generation });
        script.Add(new() { Stage = ImportStage.Committed, Message = $"{id}: committed", Generation = (ulong)generation });
        return (file, script, total, generation);
    }

    private static ImportEditionProgress Received(string file) =>
        new() { Stage = ImportStage.Received, Message = $"received {new FileInfo(file).Length} bytes of {Path.GetFileName(file)}" };

    /// <summary>Takes the whole upload, checks its size against the file's, then says what the script says (and ends as told).</summary>
    private sealed class ScriptedAdmin(IReadOnlyList<ImportEditionProgress> script, Status? end = null) : RegistryAdmin.RegistryAdminBase
    {
        public override async Task ImportEdition(IAsyncStreamReader<ImportEditionRequest> requestStream, IServerStreamWriter<ImportEditionProgress> responseStream,
            ServerCallContext context)
        {
            long received = 0;
            string? name = null;
            await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
            {
                if (request.PartCase == ImportEditionRequest.PartOneofCase.Header) name = request.Header.FileName;
                else received += request.Chunk.Length;
            }

            foreach (var progress in script)
            {
                // The script's byte count is the file's: the upload must have delivered exactly that.
                if (progress.Stage == ImportStage.Received && progress.Message != $"received {received} bytes of {name}")
                {
                    throw new RpcException(new Status(StatusCode.DataLoss, $"got {received} bytes of {name}"));
                }

                await responseStream.WriteAsync(progress, context.CancellationToken);
            }

            if (end is { } status) throw new RpcException(status);
        }
    }
}
