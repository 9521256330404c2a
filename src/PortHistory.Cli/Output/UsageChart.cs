using System.Text;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>
/// A series' buckets as one line of block characters, scaled to the series' busiest bucket. More buckets than columns
/// are grouped, each column showing its group's busiest bucket, so a peak is never averaged away.
/// </summary>
public static class UsageChart
{
    private const string Levels = "▁▂▃▄▅▆▇█";

    /// <summary>A bucket with more than none and fewer than the privacy floor: its count is withheld.</summary>
    public const char Withheld = '·';

    /// <summary>No host in the bucket.</summary>
    public const char None = ' ';

    /// <summary>How many buckets each column shows, for <paramref name="columns"/> columns at most.</summary>
    public static int GroupSize(int buckets, int columns) => Math.Max(1, (buckets + Math.Max(1, columns) - 1) / Math.Max(1, columns));

    public static string Draw(IReadOnlyList<UsagePoint> points, int groupSize)
    {
        var max = points.Count == 0 ? 0u : points.Max(p => p.Hosts);
        var chart = new StringBuilder();
        for (var start = 0; start < points.Count; start += groupSize)
        {
            var hosts = 0u;
            var withheld = false;
            for (var i = start; i < Math.Min(points.Count, start + groupSize); i++)
            {
                hosts = Math.Max(hosts, points[i].Hosts);
                withheld |= points[i].FewerThanFloor;
            }

            chart.Append(hosts > 0 ? Levels[(int)Math.Min(Levels.Length - 1, Math.Ceiling(hosts * (double)Levels.Length / max) - 1)] : withheld ? Withheld : None);
        }

        return chart.ToString();
    }
}
