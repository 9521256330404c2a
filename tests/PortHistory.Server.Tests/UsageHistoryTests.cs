using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// Usage history against a real server and PostgreSQL: hosts report differentially over three past days, one of them
/// late, and a team loads years of history from a file; the answers (gRPC and JSON, admin and reader) have exact counts.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class UsageHistoryTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private const uint Port = 40776;

    private Task<SightingsServer> ServerAsync() => resources.SharedAsync("usage", () => SightingsServer.StartAsync(fixture.Postgres, "usage"));

    [Fact]
    public async Task Days_from_a_known_change_stream_have_exact_counts_a_late_report_lands_in_its_day_and_lifetimes_follow()
    {
        var server = await ServerAsync();
        var agent = new Sightings.SightingsClient(server.Agent);
        var today = DateTime.UtcNow.Date;
        DateTime Day(int back, int hour) => today.AddDays(-back).AddHours(hour);
        var statd = Socket("rpc.statd", BindScope.Wildcard);
        var statdLoopback = Socket("rpc.statd", BindScope.Loopback);
        var odd = Socket("kworker-x", BindScope.Wildcard);

        // Three days ago four hosts start rpc.statd (one bound to loopback only).
        foreach (var h in new[] { 1, 2, 3 }) await ApplyAsync(agent, HostReports.Snapshot($"u-{h}", Epoch($"u-{h}"), 1, [statd], Day(3, 10)));
        await ApplyAsync(agent, HostReports.Snapshot("u-4", Epoch("u-4"), 1, [statdLoopback], Day(3, 10)));
        // Two days ago one stops it, and another host starts an odd process there.
        await ApplyAsync(agent, HostReports.Changes("u-2", Epoch("u-2"), 2, added: [], removed: [statd], after: [], Day(2, 12)));
        await ApplyAsync(agent, HostReports.Snapshot("u-5", Epoch("u-5"), 1, [odd], Day(2, 12)));
        // Yesterday it starts again, and the first host stops it.
        await ApplyAsync(agent, HostReports.Changes("u-2", Epoch("u-2"), 3, added: [statd], removed: [], after: [statd], Day(1, 9)));
        await ApplyAsync(agent, HostReports.Changes("u-1", Epoch("u-1"), 2, added: [], removed: [statd], after: [], Day(1, 9)));
        // A report of three days ago that arrives last (a host whose spool held it): it lands in its own day.
        await ApplyAsync(agent, HostReports.Snapshot("u-6", Epoch("u-6"), 1, [statd], Day(3, 8)));

        var usage = new Usage.UsageClient(server.Admin);
        var request = new GetUsageHistoryRequest { Port = Port, Transport = Transport.Udp, From = Text(today.AddDays(-4)), To = Text(today) };
        var admin = await SightingsServer.EventuallyAsync(() => usage.GetUsageHistoryAsync(request).ResponseAsync,
            r => Hosts(r, "rpc.statd").SequenceEqual<uint>([0, 5, 5, 5, 4]));

        // rpc.statd: 5 hosts three days ago (4 reachable), 5 the next day (one stopped), 5 yesterday (one back, one gone), 4 today.
        var statdSeries = admin.Series.Single(s => s.ProcessName == "rpc.statd");
        Assert.Equal([0u, 4, 4, 4, 3], statdSeries.Points.Select(p => p.Reachable));
        Assert.Equal([(0u, 0u), (5, 0), (0, 1), (1, 1), (0, 0)], statdSeries.Points.Select(p => (p.Added, p.Removed)));
        Assert.Equal([0u, 0, 1, 1, 1], Hosts(admin, "kworker-x"));
        // Anything listening on the port: six hosts on the days both ran.
        Assert.Equal([0u, 5, 6, 6, 5], admin.Series.Single(s => s.Total).Points.Select(p => p.Hosts));

        var lifetime = admin.Lifetimes.Single(l => l.ProcessName == "rpc.statd");
        Assert.Equal((Day(3, 8), true, 4u, 5u, Text(today.AddDays(-3))),
            (lifetime.FirstSeen.ToDateTime(), lifetime.ListeningNow, lifetime.HostsNow, lifetime.PeakHosts, lifetime.PeakDay));
        Assert.Null(lifetime.LastSeen);

        // A reader: the odd process is on fewer hosts than the privacy floor, so it is not named, and its count is withheld.
        var reader = await new Usage.UsageClient(server.Reader).GetUsageHistoryAsync(request);
        Assert.DoesNotContain(reader.Series, s => s.ProcessName == "kworker-x");
        Assert.DoesNotContain(reader.Lifetimes, l => l.ProcessName == "kworker-x");
        var other = reader.Series.Single(s => s.Other);
        Assert.Equal([false, false, true, true, true], other.Points.Select(p => p.FewerThanFloor));
        Assert.All(other.Points, p => Assert.Equal(0u, p.Hosts));
        Assert.Equal(Hosts(admin, "rpc.statd"), Hosts(reader, "rpc.statd"));

        // In columns, the same answers (a reader's withheld counts too); the JSON route gives them as arrays.
        Assert.Equal(admin, (await usage.GetUsageHistoryAsync(new GetUsageHistoryRequest(request) { Columns = true })).WithPoints());
        Assert.Equal(reader, (await new Usage.UsageClient(server.Reader).GetUsageHistoryAsync(new GetUsageHistoryRequest(request) { Columns = true })).WithPoints());

        // Weeks and months show their busiest day.
        var monthly = await usage.GetUsageHistoryAsync(new GetUsageHistoryRequest(request) { Granularity = UsageGranularity.Month });
        Assert.Equal(5u, monthly.Series.Single(s => s.ProcessName == "rpc.statd").Points.Max(p => p.Hosts));

        // The JSON route answers the same, with a reader's token.
        using var http = new HttpClient { BaseAddress = new Uri(server.Server.HttpAddress) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.ReaderToken);
        using var json = JsonDocument.Parse(await http.GetStringAsync($"/v1/ports/{Port}/usage?transport=TRANSPORT_UDP&from={request.From}&to={request.To}"));
        var jsonStatd = json.RootElement.GetProperty("series").EnumerateArray().Single(s => s.TryGetProperty("processName", out var n) && n.GetString() == "rpc.statd");
        Assert.Equal([0, 5, 5, 5, 4], jsonStatd.GetProperty("points").EnumerateArray().Select(p => p.TryGetProperty("hosts", out var h) ? h.GetInt32() : 0));
        using var jsonColumns = JsonDocument.Parse(await http.GetStringAsync($"/v1/ports/{Port}/usage?transport=TRANSPORT_UDP&from={request.From}&to={request.To}&columns=true"));
        Assert.Equal(5, jsonColumns.RootElement.GetProperty("buckets").GetArrayLength());
        var columnsStatd = jsonColumns.RootElement.GetProperty("series").EnumerateArray().Single(s => s.TryGetProperty("processName", out var n) && n.GetString() == "rpc.statd");
        Assert.Equal([0, 5, 5, 5, 4], columnsStatd.GetProperty("columns").GetProperty("hosts").EnumerateArray().Select(h => h.GetInt32()));

        // The port's verdict says since when: first seen three days ago (the late report), on 5 hosts yesterday.
        var observed = new ObservationsService.ObservationsClient(server.Reader);
        var verdict = (await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = Port, Transport = Transport.Udp }).ResponseAsync,
            r => r.Verdicts.Any(v => v.Kind == VerdictKind.Unregistered))).Verdicts.Single(v => v.Kind == VerdictKind.Unregistered);
        var quoted = $"; rpc.statd on {Port}/udp since {Text(today.AddDays(-3))} (first seen), 5 hosts yesterday";
        Assert.EndsWith(quoted, verdict.Reason);
        // The port's own answer says the same, the answer most callers get (kept by the gateway) and its JSON alike.
        var port = await new PortRegistry.PortRegistryClient(server.Reader).GetPortAsync(new GetPortRequest { Port = Port });
        Assert.EndsWith(quoted, port.Verdicts.Single(v => v.Kind == VerdictKind.Unregistered).Reason);
        using var portJson = JsonDocument.Parse(await http.GetStringAsync($"/v1/ports/{Port}"));
        Assert.Contains(portJson.RootElement.GetProperty("verdicts").EnumerateArray(), v => v.GetProperty("reason").GetString()!.EndsWith(quoted, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bulk_load_with_bad_rows_loads_nothing_and_names_the_lines_a_good_one_draws_years_of_history()
    {
        var server = await ServerAsync();
        var usage = new Usage.UsageClient(server.Admin);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        const uint port = 40777;

        // Rows with a day in the future, an unknown transport, more reachable hosts than hosts, and a row twice: nothing is loaded.
        UsageRow Row(ulong line, DateOnly day, uint hosts, Transport transport = Transport.Udp, uint reachable = 0) => new()
        {
            Line = line, Day = day.ToString("yyyy-MM-dd"), Port = port, Transport = transport, ProcessName = "rpc.statd", Executable = "/usr/sbin/rpc.statd",
            Hosts = hosts, Reachable = reachable,
        };
        var bad = await Assert.ThrowsAsync<RpcException>(() => LoadAsync(usage,
            [Row(1, today.AddDays(-10), 3), Row(2, today.AddDays(2), 3), Row(3, today.AddDays(-9), 3, (Transport)77), Row(4, today.AddDays(-8), 3, reachable: 4),
                Row(5, today.AddDays(-10), 4)]));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        foreach (var line in new[] { "line 2: day", "line 3: transport", "line 4: reachable", "line 5: day" }) Assert.Contains(line, bad.Status.Detail);
        var empty = await usage.GetUsageHistoryAsync(new GetUsageHistoryRequest { Port = port, From = Text(today.AddDays(-20)), To = Text(today) });
        Assert.Empty(empty.Series);

        // Three years of rpc.statd on 40 hosts, then 38, with a burst of 10 in between: levels come back exactly.
        var start = today.AddYears(-3);
        var rows = new List<UsageRow>();
        for (var day = start; day < today; day = day.AddDays(1))
        {
            var hosts = day < start.AddDays(400) ? 40u : day < start.AddDays(410) ? 50u : 38u;
            rows.Add(Row((ulong)rows.Count + 1, day, hosts, reachable: hosts / 2));
        }

        var loaded = await LoadAsync(usage, rows);
        Assert.Equal(((ulong)rows.Count, 1ul, Text(start), Text(today.AddDays(-1))), (loaded.Rows, loaded.Series, loaded.FirstDay, loaded.LastDay));
        var history = await usage.GetUsageHistoryAsync(new GetUsageHistoryRequest { Port = port, From = Text(start), To = Text(today.AddDays(-1)) });
        Assert.Equal(rows.Select(r => r.Hosts), Hosts(history, "rpc.statd"));
        Assert.Equal(rows.Select(r => r.Reachable), history.Series.Single(s => s.ProcessName == "rpc.statd").Points.Select(p => p.Reachable));
        var lifetime = history.Lifetimes.Single();
        Assert.Equal((start.ToDateTime(TimeOnly.MinValue), false, 50u), (lifetime.FirstSeen.ToDateTime(), lifetime.ListeningNow, lifetime.PeakHosts));
        Assert.Equal(today.AddDays(-1), DateOnly.FromDateTime(lifetime.LastSeen.ToDateTime()));
        var monthly = await usage.GetUsageHistoryAsync(new GetUsageHistoryRequest
        {
            Port = port, From = Text(start), To = Text(today.AddDays(-1)), Granularity = UsageGranularity.Month,
        });
        Assert.Equal(50u, monthly.Series.Single(s => s.ProcessName == "rpc.statd").Points.Max(p => p.Hosts));
    }

    private static async Task<LoadUsageHistoryResponse> LoadAsync(Usage.UsageClient usage, IReadOnlyList<UsageRow> rows)
    {
        using var call = usage.LoadUsageHistory();
        foreach (var chunk in rows.Chunk(500)) await call.RequestStream.WriteAsync(new LoadUsageHistoryRequest { Rows = { chunk }, Source = "test" });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    private static IEnumerable<uint> Hosts(GetUsageHistoryResponse response, string process) =>
        response.Series.SingleOrDefault(s => s.ProcessName == process)?.Points.Select(p => p.Hosts) ?? [];

    private static string Text(DateTime day) => day.ToString("yyyy-MM-dd");

    private static string Text(DateOnly day) => day.ToString("yyyy-MM-dd");

    private static async Task ApplyAsync(Sightings.SightingsClient agent, HostReport report) =>
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(report)).Outcome);

    private static HostSocket Socket(string process, BindScope scope) => new()
    {
        Port = Port, Transport = Transport.Udp, BindScope = scope, ProcessName = process,
        Executable = $"/usr/sbin/{process}",
    };

    private static ReportEpoch Epoch(string host) => new() { Id = 0x05a6_e000 + (ulong)host[^1], StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-10)) };
}
