using System.Globalization;
using Google.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>One port's usage history as charts and a table of lifetimes, or JSON; and what a load added.</summary>
public static class UsageRenderers
{
    /// <summary>Chart columns when the output is no terminal (a file, a pipe, a test).</summary>
    public const int DefaultChartWidth = 60;

    /// <summary>What a series line needs beside its chart: the label and "last …; peak … on YYYY-MM-DD".</summary>
    private const int TailWidth = 44;

    /// <param name="transport">The transport asked for, or null for all, for the header.</param>
    /// <param name="terminalWidth">The terminal's columns, or null when the output is no terminal.</param>
    public static void History(TextWriter output, GetUsageHistoryResponse history, string? transport, int? terminalWidth, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonFormatter.Default.Format(history));
            return;
        }

        var port = $"{history.Port}{(transport is null ? "" : $"/{transport}")}";
        var (from, to, since) = (Text(history.From), Text(history.To), Text(history.ReportingSince));
        var floor = history.PrivacyFloor;
        if (history.Lifetimes.Count == 0 && history.Series.All(s => s.Points.All(p => p.Hosts == 0 && !p.FewerThanFloor)))
        {
            output.WriteLine(NoneSeen(port, from, to, since));
            return;
        }

        var unit = Unit(history.Granularity);
        output.WriteLine($"Port {port}: {from} to {to} by {unit}; hosts reporting since {(since.Length > 0 ? since : "(none yet)")}");
        var lines = history.Series.Select(s => (Label: Label(s), s.Points)).ToList();
        if (history.ReportingHosts.Count > 0) lines.Add(("hosts reporting", history.ReportingHosts));
        var labelWidth = lines.Max(l => l.Label.Length);
        var buckets = lines.Max(l => l.Points.Count);
        var columns = terminalWidth is { } width ? Math.Max(10, width - labelWidth - TailWidth) : DefaultChartWidth;
        var group = UsageChart.GroupSize(buckets, columns);
        var chartWidth = (buckets + group - 1) / group;
        var withheld = false;
        foreach (var (label, points) in lines)
        {
            var chart = UsageChart.Draw(points, group);
            withheld |= chart.Contains(UsageChart.Withheld) || points.Count > 0 && points[^1].FewerThanFloor;
            output.WriteLine($"{label.PadRight(labelWidth)}  {chart.PadRight(chartWidth)}  {Tail(points, floor)}".TrimEnd());
        }

        if (history.Series.Count > 0 && chartWidth >= 22)
        {
            var first = Text(history.Series[0].Points.FirstOrDefault()?.Start);
            var last = Text(history.Series[0].Points.LastOrDefault()?.Start);
            output.WriteLine($"{new string(' ', labelWidth)}  {first}{last.PadLeft(chartWidth - first.Length)}");
        }

        if (group > 1) output.WriteLine($"Each column is the busiest of {group} {unit}s.");
        if (withheld) output.WriteLine($"{UsageChart.Withheld} fewer than {floor} hosts (counts below the privacy floor are withheld)");
        if (history.Lifetimes.Count == 0) return;

        output.WriteLine();
        var table = new TextTable("PROCESS", "TRANSPORT", "FIRST SEEN", "LAST SEEN", "HOSTS NOW", "PEAK");
        foreach (var l in history.Lifetimes)
        {
            table.Add(Text(l.ProcessName), Transport(l.Transport), Day(l.FirstSeen), l.ListeningNow ? "now" : Day(l.LastSeen),
                l.FewerThanFloor ? $"<{floor}" : l.HostsNow.ToString(CultureInfo.InvariantCulture),
                l.PeakHosts > 0 ? $"{l.PeakHosts} on {Text(l.PeakDay)}" : "-");
        }

        table.WriteTo(output);
    }

    public static void Loaded(TextWriter output, string file, LoadUsageHistoryResponse loaded, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonFormatter.Default.Format(loaded));
            return;
        }

        output.WriteLine(loaded.Rows == 0
            ? $"{file}: no rows loaded"
            : string.Create(CultureInfo.InvariantCulture, $"{file}: loaded {loaded.Rows:N0} row(s) in {loaded.Series:N0} series, {Text(loaded.FirstDay)} to {Text(loaded.LastDay)}"));
    }

    /// <summary>Nothing listened in the range: say from when hosts have reported, so "none" is not read as "not looked".</summary>
    private static string NoneSeen(string port, string from, string to, string since)
    {
        if (since.Length == 0) return $"no listener seen on {port} from {from} to {to}: no host has reported yet";
        if (string.CompareOrdinal(since, to) > 0) return $"no listener seen on {port} from {from} to {to}: hosts report since {since}";
        return string.CompareOrdinal(since, from) > 0
            ? $"no listener seen on {port} from {since} (when hosts began reporting) to {to}"
            : $"no listener seen on {port} from {from} to {to} (hosts reporting since {since})";
    }

    private static string Label(UsageSeries series)
    {
        var name = series.Total ? "all listeners" : series.Other ? "other" : Text(series.ProcessName);
        if (name.Length > 32) name = name[..31] + "…";
        return $"{Transport(series.Transport),-4} {name}";
    }

    /// <summary>The last bucket's hosts and the busiest bucket.</summary>
    private static string Tail(IReadOnlyList<UsagePoint> points, uint floor)
    {
        if (points.Count == 0) return "";
        var last = points[^1].FewerThanFloor ? $"<{floor}" : points[^1].Hosts.ToString(CultureInfo.InvariantCulture);
        var peak = points.MaxBy(p => p.Hosts)!;
        var busiest = peak.Hosts > 0 ? $"{peak.Hosts} on {Text(peak.Start)}" : points.Any(p => p.FewerThanFloor) ? $"<{floor}" : "none";
        return $"last {last} hosts; peak {busiest}";
    }

    private static string Unit(UsageGranularity granularity) => granularity switch
    {
        UsageGranularity.Week => "week",
        UsageGranularity.Month => "month",
        _ => "day",
    };

    private static string Transport(Contracts.V1.Transport transport) => transport switch
    {
        Contracts.V1.Transport.Tcp => "tcp",
        Contracts.V1.Transport.Udp => "udp",
        Contracts.V1.Transport.Sctp => "sctp",
        Contracts.V1.Transport.Dccp => "dccp",
        _ => "?",
    };

    /// <summary>A timestamp's day; "?" for one outside the years 1-9999, which the server never sends.</summary>
    private static string Day(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "-"
        : at.Seconds is < -62_135_596_800 or > 253_402_300_799 || at.Nanos is < 0 or >= 1_000_000_000 ? "?"
        : at.ToDateTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Text from the server, safe for a terminal.</summary>
    private static string Text(string? text) => ServerText.Printable(text);
}
