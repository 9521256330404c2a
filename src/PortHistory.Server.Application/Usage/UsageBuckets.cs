using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Usage;

/// <summary>
/// The buckets of a query's range (days, weeks from Monday or calendar months), worked out once per answer: the bucket
/// of every day and every bucket's start as text, shared by all of the answer's series.
/// </summary>
internal sealed class UsageBuckets
{
    private readonly int[] bucketOfDay;

    public UsageBuckets(UsageQuery query)
    {
        var days = query.To.DayNumber - query.From.DayNumber + 1;
        bucketOfDay = new int[days];
        var texts = new List<string>();
        var current = DateOnly.MinValue;
        for (var i = 0; i < days; i++)
        {
            var start = Start(query.From.AddDays(i), query.Granularity);
            if (texts.Count == 0 || start != current)
            {
                current = start;
                texts.Add(UsageHistoryBuilder.Text(start));
            }

            bucketOfDay[i] = texts.Count - 1;
        }

        Texts = [.. texts];
    }

    /// <summary>Each bucket's first day (for the first bucket, possibly before the range), as yyyy-MM-dd.</summary>
    public string[] Texts { get; }

    /// <summary>A series's days in buckets: the busiest day's hosts and reachable hosts, the starts and stops added up.</summary>
    public UsageDay[] Of(UsageDay[] values)
    {
        var buckets = new UsageDay[Texts.Length];
        for (var i = 0; i < values.Length; i++)
        {
            ref var bucket = ref buckets[bucketOfDay[i]];
            var day = values[i];
            bucket = new UsageDay(Math.Max(bucket.Hosts, day.Hosts), Math.Max(bucket.Reachable, day.Reachable), bucket.Added + day.Added, bucket.Removed + day.Removed);
        }

        return buckets;
    }

    private static DateOnly Start(DateOnly day, UsageGranularity granularity) => granularity switch
    {
        UsageGranularity.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
        UsageGranularity.Month => new DateOnly(day.Year, day.Month, 1),
        _ => day,
    };
}
