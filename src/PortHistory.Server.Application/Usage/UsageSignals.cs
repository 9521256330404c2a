using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Usage;

/// <summary>A process that started on a port on a closed day after its quiet days, with the hosts that started it.</summary>
public sealed record FirstSeenRow(int Port, Transport Transport, int ProcessId, string Name, string Executable, int Hosts);

/// <summary>One (port, transport)'s hosts listening at the start of the baseline, and its day rows from then to the closed day.</summary>
public sealed record SpikeCandidate(int Port, Transport Transport, int StartHosts, IReadOnlyList<StoredUsageRow> Days);

/// <summary>What a closed day may announce, read from the usage tables.</summary>
public sealed record UsageDaySignals(IReadOnlyList<FirstSeenRow> FirstSeen, IReadOnlyList<SpikeCandidate> Spikes);

/// <summary>
/// The watch events of a closed day: processes first seen after their quiet days (on at least the privacy floor of
/// hosts), and ports whose hosts that day rose far above their own recent days (median and median absolute
/// deviation of the baseline, as DShield flags ports). Event ids name the day, so a day closed again raises nothing new.
/// </summary>
public static class UsageSignals
{
    public static IEnumerable<WatchEvent> Events(DateOnly day, UsageDaySignals signals, int floor, int quietDays, int baselineDays, double deviations,
        int minimumRise, DateTime raisedAt)
    {
        var text = UsageHistoryBuilder.Text(day);
        var at = Timestamp.FromDateTime(DateTime.SpecifyKind(raisedAt, DateTimeKind.Utc));
        foreach (var first in signals.FirstSeen.Where(f => f.Hosts >= floor))
        {
            yield return new WatchEvent
            {
                EventId = $"usage-first-seen:{first.Port}/{(int)first.Transport}/{first.ProcessId}/{text}", Kind = WatchEventKind.UsageFirstSeen,
                Port = (uint)first.Port, Transport = first.Transport, RaisedAt = at, ProcessName = first.Name, Executable = first.Executable,
                DistinctHosts = (ulong)first.Hosts,
                Reason = $"{first.Name} started on {first.Port}/{Name(first.Transport)} on {first.Hosts} hosts on {text}, after at least {quietDays} days with none",
            };
        }

        foreach (var candidate in signals.Spikes)
        {
            if (Spike(candidate, day, baselineDays, deviations, minimumRise) is not { } spike) continue;
            yield return new WatchEvent
            {
                EventId = $"usage-spike:{candidate.Port}/{(int)candidate.Transport}/{text}", Kind = WatchEventKind.UsageSpike, Port = (uint)candidate.Port,
                Transport = candidate.Transport, RaisedAt = at, DistinctHosts = (ulong)spike.Hosts,
                Reason = $"{spike.Hosts} hosts listened on {candidate.Port}/{Name(candidate.Transport)} on {text}, against a median of {spike.Median:0.#} " +
                         $"(median absolute deviation {spike.Deviation:0.#}) over the {baselineDays} days before",
            };
        }
    }

    /// <summary>The closed day's hosts against the baseline days before it; null when that is no spike.</summary>
    public static (int Hosts, double Median, double Deviation)? Spike(SpikeCandidate candidate, DateOnly day, int baselineDays, double deviations, int minimumRise)
    {
        var from = day.AddDays(-baselineDays);
        var byDay = candidate.Days.GroupBy(r => r.Start).ToDictionary(g => g.Key, g => (Added: g.Sum(r => r.Added), Removed: g.Sum(r => r.Removed)));
        var running = candidate.StartHosts;
        var baseline = new double[baselineDays];
        var hosts = 0;
        for (var i = 0; i <= baselineDays; i++)
        {
            var (added, removed) = byDay.GetValueOrDefault(from.AddDays(i));
            hosts = Math.Max(0, running + added);
            if (i < baselineDays) baseline[i] = hosts;
            running += added - removed;
        }

        var median = Median(baseline);
        var deviation = Median([.. baseline.Select(b => Math.Abs(b - median))]);
        return hosts - median >= minimumRise && hosts > median + deviations * Math.Max(deviation, 1) ? (hosts, median, deviation) : null;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Name(Transport transport) => transport.ToString().ToLowerInvariant();
}
