using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Tests;

/// <summary>`porthistory usage PORT`: the request it sends, its charts with withheld counts marked, the lifetimes, and --json.</summary>
public sealed class UsageHistoryVerbTests
{
    [Fact]
    public async Task Each_series_is_a_chart_scaled_to_its_busiest_bucket_with_withheld_counts_marked_and_explained_then_the_lifetimes()
    {
        var usage = new FakeUsage { History = FourDays() };
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "771", "--server", server.Address, "--token", "secret", "--transport", "tcp", "--since", "2024-03-01",
            "--until", "2024-03-04", "--by", "day", "--top", "3");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        var request = Assert.Single(usage.HistoryRequests);
        Assert.Equal((771u, Transport.Tcp, "2024-03-01", "2024-03-04", UsageGranularity.Day, 3u),
            (request.Port, request.Transport, request.From, request.To, request.Granularity, request.Top));
        Assert.Equal("Bearer secret", Assert.Single(usage.Authorizations));
        var lines = run.Output.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Equal("Port 771/tcp: 2024-03-01 to 2024-03-04 by day; hosts reporting since 2023-01-01", lines[0]);
        Assert.Equal("tcp  nginx          ▂▄██  last 40 hosts; peak 40 on 2024-03-03", lines[1]);
        Assert.Equal("tcp  evil?[31m      █     last 0 hosts; peak 1 on 2024-03-01", lines[2]);
        Assert.Equal("tcp  other          · █·  last <3 hosts; peak 5 on 2024-03-03", lines[3]);
        Assert.Equal("tcp  all listeners  ▂▄██  last 41 hosts; peak 45 on 2024-03-03", lines[4]);
        Assert.Contains("· fewer than 3 hosts (counts below the privacy floor are withheld)", lines);
        Assert.DoesNotContain("\u001b", run.Output);

        var table = lines.SkipWhile(l => !l.StartsWith("PROCESS", StringComparison.Ordinal)).ToList();
        Assert.Matches(@"^PROCESS\s+TRANSPORT\s+FIRST SEEN\s+LAST SEEN\s+HOSTS NOW\s+PEAK$", table[0]);
        Assert.Matches(@"^nginx\s+tcp\s+2023-05-01\s+now\s+40\s+40 on 2024-03-03$", table[2]);
        Assert.Matches(@"^oldd\s+tcp\s+2022-01-01\s+2023-02-02\s+0\s+7 on 2022-06-01$", table[3]);
        Assert.Matches(@"^rare\s+tcp\s+2024-02-01\s+now\s+<3\s+-$", table[4]);
    }

    [Fact]
    public async Task A_year_of_days_is_fitted_into_60_columns_each_the_busiest_of_its_group_so_a_one_day_peak_stays()
    {
        var points = Enumerable.Range(0, 365).Select(i => new UsagePoint { Start = new DateOnly(2023, 1, 1).AddDays(i).ToString("yyyy-MM-dd"), Hosts = i == 200 ? 100u : 10u });
        var usage = new FakeUsage
        {
            History = new GetUsageHistoryResponse
            {
                Port = 771, From = "2023-01-01", To = "2023-12-31", Granularity = UsageGranularity.Day, ReportingSince = "2022-01-01", PrivacyFloor = 3,
                Series = { new UsageSeries { Transport = Transport.Udp, Total = true, Points = { points } } },
            },
        };
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "771", "--server", server.Address);

        Assert.Equal(0, run.ExitCode);
        var chart = run.Output.Split('\n')[1]["udp  all listeners  ".Length..].Split("  ")[0];
        Assert.Equal(53, chart.Length);
        Assert.Equal(1, chart.Count(c => c == '█'));
        Assert.Equal(52, chart.Count(c => c == '▁'));
        Assert.Contains("Each column is the busiest of 7 days.", run.Output);
        Assert.Contains("peak 100 on 2023-07-20", run.Output);
        var request = usage.HistoryRequests.Single();
        Assert.Equal((771u, Transport.Unspecified, "", "", 0u), (request.Port, request.Transport, request.From, request.To, request.Top));
    }

    [Theory]
    [InlineData("2024-01-10", "no listener seen on 771 from 2024-01-10 (when hosts began reporting) to 2024-03-31")]
    [InlineData("2023-06-01", "no listener seen on 771 from 2024-01-01 to 2024-03-31 (hosts reporting since 2023-06-01)")]
    [InlineData("", "no listener seen on 771 from 2024-01-01 to 2024-03-31: no host has reported yet")]
    public async Task A_port_where_nothing_ever_listened_says_so_and_since_when_hosts_report(string since, string expected)
    {
        var usage = new FakeUsage
        {
            History = new GetUsageHistoryResponse { Port = 771, From = "2024-01-01", To = "2024-03-31", ReportingSince = since, PrivacyFloor = 3 },
        };
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "771", "--server", server.Address, "--since", "2024-01-01", "--until", "2024-03-31");

        Assert.Equal((0, expected), (run.ExitCode, run.Output.TrimEnd()));
    }

    [Fact]
    public async Task Json_is_the_response_as_protobuf_json()
    {
        var usage = new FakeUsage { History = FourDays() };
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "771", "--server", server.Address, "--by", "week", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(UsageGranularity.Week, usage.HistoryRequests.Single().Granularity);
        var json = run.Json();
        Assert.Equal(771, json.GetProperty("port").GetInt32());
        var series = json.GetProperty("series");
        Assert.Equal("nginx", series[0].GetProperty("processName").GetString());
        Assert.Equal(40, series[0].GetProperty("points")[3].GetProperty("hosts").GetInt32());
        Assert.True(series[2].GetProperty("other").GetBoolean());
        Assert.True(series[2].GetProperty("points")[0].GetProperty("fewerThanFloor").GetBoolean());
        Assert.Equal("2024-03-03", json.GetProperty("lifetimes")[0].GetProperty("peakDay").GetString());
        Assert.Equal(GetUsageHistoryResponse.Parser.ParseJson(run.Output), usage.History);
    }

    [Fact]
    public async Task It_asks_for_columns_and_draws_and_prints_them_as_it_would_points()
    {
        var points = new FakeUsage { History = FourDays() };
        var columns = new FakeUsage { History = InColumns(FourDays()) };
        await using var pointsServer = await FakeGrpcServer.StartAsync(points);
        await using var columnsServer = await FakeGrpcServer.StartAsync(columns);

        foreach (var json in new[] { false, true })
        {
            string[] options = json ? ["--json"] : [];
            var fromPoints = await CliRun.RunAsync(["usage", "771", "--server", pointsServer.Address, .. options]);
            var fromColumns = await CliRun.RunAsync(["usage", "771", "--server", columnsServer.Address, .. options]);
            Assert.Equal((0, ""), (fromColumns.ExitCode, fromColumns.Error));
            Assert.Equal(fromPoints.Output, fromColumns.Output);
        }

        Assert.All(columns.HistoryRequests.Concat(points.HistoryRequests), r => Assert.True(r.Columns));
        Assert.Equal(FourDays(), GetUsageHistoryResponse.Parser.ParseJson((await CliRun.RunAsync("usage", "771", "--server", columnsServer.Address, "--json")).Output));
    }

    [Theory]
    [InlineData(3, new uint[0], "nginx: 3 hosts values for 4 buckets")]
    [InlineData(4, new uint[] { 2, 1 }, "nginx: withheld buckets out of order")]
    [InlineData(4, new uint[] { 4 }, "nginx: withheld bucket 4 of 4")]
    public async Task Columns_that_do_not_fit_the_buckets_are_an_error_naming_the_series(int values, uint[] withheld, string message)
    {
        var history = InColumns(FourDays());
        var nginx = history.Series[0].Columns;
        while (nginx.Hosts.Count > values) nginx.Hosts.RemoveAt(nginx.Hosts.Count - 1);
        nginx.FewerThanFloor.Add(withheld);
        await using var server = await FakeGrpcServer.StartAsync(new FakeUsage { History = history });

        var run = await CliRun.RunAsync("usage", "771", "--server", server.Address);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"the server's usage answer does not add up: {message}", run.Error);
    }

    /// <summary>The answer as the server writes it when asked for columns.</summary>
    private static GetUsageHistoryResponse InColumns(GetUsageHistoryResponse points)
    {
        var answer = points.Clone();
        answer.Buckets.AddRange(points.Series[0].Points.Select(p => p.Start));
        foreach (var series in answer.Series)
        {
            var own = series.Points;
            series.Columns = UsageColumns.Of([.. own.Select(p => p.Hosts)], [.. own.Select(p => p.Reachable)], [.. own.Select(p => p.Added)],
                [.. own.Select(p => p.Removed)], [.. own.Select((p, i) => (p, i)).Where(x => x.p.FewerThanFloor).Select(x => x.i)]);
            series.Points.Clear();
        }

        return answer;
    }

    [Theory]
    [InlineData("--by", "year", "--by must be day, week or month")]
    [InlineData("--top", "0", "--top must be 1-20")]
    [InlineData("--top", "21", "--top must be 1-20")]
    [InlineData("--since", "2024-13-01", "--since must be a date")]
    [InlineData("--transport", "icmp", "transport must be tcp, udp, sctp or dccp")]
    public async Task Bad_options_are_bad_usage_and_ask_nothing(string option, string value, string message)
    {
        var usage = new FakeUsage();
        await using var server = await FakeGrpcServer.StartAsync(usage);

        var run = await CliRun.RunAsync("usage", "771", "--server", server.Address, option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.Empty(usage.HistoryRequests);
    }

    private static GetUsageHistoryResponse FourDays()
    {
        static UsagePoint Point(int day, uint hosts) => new() { Start = $"2024-03-0{day}", Hosts = hosts };
        static UsagePoint Withheld(int day) => new() { Start = $"2024-03-0{day}", FewerThanFloor = true };
        static Timestamp At(int year, int month, int day) => Timestamp.FromDateTime(new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc));
        return new GetUsageHistoryResponse
        {
            Port = 771, From = "2024-03-01", To = "2024-03-04", Granularity = UsageGranularity.Day, ReportingSince = "2023-01-01", PrivacyFloor = 3,
            Series =
            {
                new UsageSeries { Transport = Transport.Tcp, ProcessName = "nginx", Executable = "/usr/sbin/nginx", Points = { Point(1, 10), Point(2, 20), Point(3, 40), Point(4, 40) } },
                new UsageSeries { Transport = Transport.Tcp, ProcessName = "evil\u001b[31m", Points = { Point(1, 1), Point(2, 0), Point(3, 0), Point(4, 0) } },
                new UsageSeries { Transport = Transport.Tcp, Other = true, Points = { Withheld(1), Point(2, 0), Point(3, 5), Withheld(4) } },
                new UsageSeries { Transport = Transport.Tcp, Total = true, Points = { Point(1, 11), Point(2, 20), Point(3, 45), Point(4, 41) } },
            },
            Lifetimes =
            {
                new ProcessLifetime { Transport = Transport.Tcp, ProcessName = "nginx", FirstSeen = At(2023, 5, 1), ListeningNow = true, HostsNow = 40, PeakHosts = 40, PeakDay = "2024-03-03" },
                new ProcessLifetime { Transport = Transport.Tcp, ProcessName = "oldd", FirstSeen = At(2022, 1, 1), LastSeen = At(2023, 2, 2), PeakHosts = 7, PeakDay = "2022-06-01" },
                new ProcessLifetime { Transport = Transport.Tcp, ProcessName = "rare", FirstSeen = At(2024, 2, 1), ListeningNow = true, FewerThanFloor = true },
            },
        };
    }
}
