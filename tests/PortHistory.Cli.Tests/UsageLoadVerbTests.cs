using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Tests;

/// <summary>
/// `porthistory usage load FILE`: CSV and NDJSON rows go to the server with their file line numbers, in messages the
/// server's 64 KiB limit takes; a file with bad rows is refused naming the lines and nothing is sent; the server's
/// refusal is shown as it says it.
/// </summary>
public sealed class UsageLoadVerbTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("porthistory-usage-load-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Csv_rows_are_sent_with_their_line_numbers_and_the_result_is_printed()
    {
        var file = Write("fleet.csv",
            "day,port,transport,process,executable,hosts,reachable\r\n" +
            "2024-03-01,771,tcp,nginx,/usr/sbin/nginx,40,12\r\n" +
            "\r\n" +
            "2024-03-02,771,TCP,\"nginx, the \"\"web\"\" one\",\"\",41,\r\n" +
            "2024-03-02,772,udp,rpc.statd,,3,3\r\n");
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", file, "--server", server.Address, "--token", "admin");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Equal("fleet.csv: loaded 3 row(s) in 3 series, 2024-03-01 to 2024-03-02", run.Output.TrimEnd());
        Assert.Equal("Bearer admin", Assert.Single(usage.Authorizations));
        Assert.Equal("fleet.csv", usage.LoadMessages.First().Source);
        Assert.Equal(
        [
            Row(2, "2024-03-01", 771, Transport.Tcp, "nginx", "/usr/sbin/nginx", 40, 12),
            Row(4, "2024-03-02", 771, Transport.Tcp, "nginx, the \"web\" one", "", 41, 0),
            Row(5, "2024-03-02", 772, Transport.Udp, "rpc.statd", "", 3, 3),
        ], usage.LoadedRows);
    }

    [Theory]
    [InlineData("fleet.ndjson")]
    [InlineData("fleet.jsonl")]
    [InlineData("fleet.log")]
    public async Task Ndjson_rows_are_sent_with_their_line_numbers_whatever_the_extension_says(string name)
    {
        var file = Write(name,
            "{\"day\":\"2024-03-01\",\"port\":771,\"transport\":\"tcp\",\"process\":\"nginx\",\"executable\":\"/usr/sbin/nginx\",\"hosts\":40,\"reachable\":12}\n" +
            "\n" +
            "{\"hosts\":3,\"process\":\"rpc.statd\",\"transport\":\"udp\",\"port\":772,\"day\":\"2024-03-02\"}\n");
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", file, "--server", server.Address, "--source", "osquery 2024");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Equal("osquery 2024", usage.LoadMessages.First().Source);
        Assert.Equal(
        [
            Row(1, "2024-03-01", 771, Transport.Tcp, "nginx", "/usr/sbin/nginx", 40, 12),
            Row(3, "2024-03-02", 772, Transport.Udp, "rpc.statd", "", 3, 0),
        ], usage.LoadedRows);
    }

    [Theory]
    [InlineData("rows.csv", "day,port,transport,process,hosts\n2024-03-01,771,tcp,nginx,40\n2024-03-01,771,tcp,\"nginx,5\n2024-03-02,771,tcp,nginx,many\n" +
                            "2024-03-03,771,tcp,nginx,-4\n2024-03-04,771,icmp,nginx,4\n2024-03-05,70000,tcp,nginx,4\n2024-3-6,771,tcp,nginx,4\n2024-03-07,771,tcp,ng\"inx,4\n",
        new[]
        {
            "line 3: row: a quoted field is not closed on its line", "line 4: hosts: not a whole number: \"many\"", "line 5: hosts: must not be negative, got -4",
            "line 6: transport: unknown transport \"icmp\"", "line 7: port: must be 0-65535, got 70000", "line 8: day: not a day (YYYY-MM-DD): \"2024-3-6\"",
            "line 9: row: a quote inside an unquoted field",
        })]
    [InlineData("rows.ndjson", "{\"day\":\"2024-03-01\",\"port\":771,\"transport\":\"tcp\",\"process\":\"nginx\",\"hosts\":4}\n{\"day\":\"2024-03-01\",\"port\":\"771\"}\n" +
                               "{\"day\":\"2024-03-02\",\"port\":771,\"transport\":\"tcp\",\"process\":\"nginx\",\"hosts\":4,\"reachable\":5}\nnot json\n" +
                               "{\"day\":\"2024-03-03\",\"port\":771,\"transport\":\"tcp\",\"proces\":\"nginx\",\"hosts\":4}\n{\"day\":\"2024-03-04\",\"port\":771,\"transport\":\"tcp\",\"process\":\"nginx\",\"hosts\":1.5}\n",
        new[]
        {
            "line 2: port: must be a number, got string", "line 3: reachable: 5 is more than hosts (4)", "line 4: row: not JSON", "line 5: row: unknown field \"proces\"",
            "line 6: hosts: not a whole number: \"1.5\"",
        })]
    public async Task A_file_with_bad_rows_is_refused_naming_each_line_and_nothing_is_sent(string name, string content, string[] errors)
    {
        var file = Write(name, content);
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", file, "--server", server.Address);

        Assert.Equal((1, ""), (run.ExitCode, run.Output));
        Assert.Contains($"{name}: {errors.Length} bad row(s); nothing was sent", run.Error);
        foreach (var error in errors) Assert.Contains(error, run.Error);
        Assert.Equal(0, usage.Loads);
    }

    [Fact]
    public async Task Reading_stops_after_20_bad_rows()
    {
        var file = Write("many.csv", "day,port,transport,process,hosts\n" + string.Concat(Enumerable.Range(0, 30).Select(_ => "2024-03-01,771,tcp,nginx,x\n")));
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", file, "--server", server.Address);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("20 bad row(s) (stopped reading after 20); nothing was sent", run.Error);
        Assert.Contains("line 21: hosts:", run.Error);
        Assert.DoesNotContain("line 22:", run.Error);
        Assert.Equal(0, usage.Loads);
    }

    [Theory]
    [InlineData("day,port,transport,process,hosts,comment\n", "line 1: header: unknown column \"comment\"")]
    [InlineData("day,port,transport,hosts\n2024-03-01,771,tcp,4\n", "line 1: header: no process column")]
    [InlineData("", "line 1: header: the file is empty")]
    public async Task A_csv_header_that_is_missing_or_wrong_is_refused(string content, string error)
    {
        var file = Write("header.csv", content);
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", file, "--server", server.Address);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(error, run.Error);
        Assert.Equal(0, usage.Loads);
    }

    [Fact]
    public async Task The_servers_invalid_argument_is_printed_as_it_says_it()
    {
        const string detail = "nothing was loaded: 1 bad row(s): line 2: day: 2999-01-01 is in the future (today is 2024-03-05)";
        var file = Write("future.csv", "day,port,transport,process,hosts\n2999-01-01,771,tcp,nginx,4\n");
        var usage = new FakeUsage { LoadRefusal = new Status(StatusCode.InvalidArgument, detail) };
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", file, "--server", server.Address);

        Assert.Equal((1, ""), (run.ExitCode, run.Output));
        Assert.Contains($"error: {detail} (InvalidArgument)", run.Error);
        Assert.Equal(2ul, Assert.Single(usage.LoadedRows).Line);
    }

    [Fact]
    public async Task A_large_file_goes_in_messages_under_the_servers_64_KiB_with_every_line_once_and_progress_on_a_terminal()
    {
        var rows = Enumerable.Range(0, 12_000).Select(i => $"{new DateOnly(2000, 1, 1).AddDays(i % 9000):yyyy-MM-dd},{i / 9000 + 771},tcp,nginx,/usr/sbin/nginx,{i % 50},0\n");
        var file = Write("big.csv", "day,port,transport,process,executable,hosts,reachable\n" + string.Concat(rows));
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var progress = new StringWriter();

        var exit = await CliApp.RunAsync(["usage", "load", file, "--server", server.Address], output, error, progress: progress);

        Assert.Equal((0, ""), (exit, error.ToString()));
        Assert.True(usage.LoadMessages.Count > 1);
        Assert.All(usage.LoadMessages, m => Assert.True(m.CalculateSize() < 64 * 1024 && m.Rows.Count <= 5_000, $"{m.CalculateSize()} bytes, {m.Rows.Count} rows"));
        Assert.Equal(Enumerable.Range(2, 12_000).Select(l => (ulong)l), usage.LoadedRows.Select(r => r.Line));
        Assert.Contains("big.csv: read 10,000 rows", progress.ToString());
        Assert.Contains("big.csv: sent 12,000 of 12,000 rows", progress.ToString());
        Assert.EndsWith("\r", progress.ToString());
        Assert.Contains("loaded 12,000 row(s)", output.ToString());
    }

    [Fact]
    public async Task A_file_of_more_than_a_million_rows_is_refused_before_anything_is_sent()
    {
        var path = Path.Combine(_directory.FullName, "huge.csv");
        await using (var writer = new StreamWriter(path))
        {
            await writer.WriteLineAsync("day,port,transport,process,hosts");
            for (var i = 0; i <= 1_000_000; i++) await writer.WriteLineAsync("2024-03-01,771,tcp,nginx,4");
        }

        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "load", path, "--server", server.Address);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("huge.csv has more than 1,000,000 rows, the most one load takes: split the file", run.Error);
        Assert.Equal(0, usage.Loads);
    }

    [Fact]
    public async Task A_port_before_load_and_a_missing_file_are_bad_usage()
    {
        var file = Write("fleet.csv", "day,port,transport,process,hosts\n2024-03-01,771,tcp,nginx,4\n");
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var stray = await CliRun.RunAsync("usage", "771", "load", file, "--server", server.Address);
        var missing = await CliRun.RunAsync("usage", "load", Path.Combine(_directory.FullName, "none.csv"), "--server", server.Address);

        Assert.Equal((2, 2), (stray.ExitCode, missing.ExitCode));
        Assert.Contains("usage load takes a file, not a port", stray.Error);
        Assert.Contains("no such file", missing.Error);
        Assert.Equal(0, usage.Loads);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static UsageRow Row(ulong line, string day, uint port, Transport transport, string process, string executable, uint hosts, uint reachable) => new()
    {
        Line = line, Day = day, Port = port, Transport = transport, ProcessName = process, Executable = executable, Hosts = hosts, Reachable = reachable,
    };
}
