using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;

namespace PortHistory.Server.Application.Usage;

/// <summary>
/// Verdict reasons with their past, from the usage history: since when the process a verdict names has run on the
/// port ("rpc.statd on 776/udp since 2024-03-02 (first seen), 38 hosts yesterday"), and for a ghost since when nothing
/// has ("nothing seen since reporting began on 2023-01-10"). Port grains read it once a day and add it to every
/// answer; when the read fails or is slow, the verdicts are answered as the grain judged them.
/// </summary>
public sealed class VerdictHistory(IUsageStore store, IOptions<VerdictOptions> verdicts, ILogger<VerdictHistory> logger) : IVerdictHistory
{
    /// <summary>How long the history may take before the answer goes without it.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);

    private static readonly HashSet<VerdictKind> Named = [VerdictKind.Squatter, VerdictKind.Unregistered, VerdictKind.Unexpected, VerdictKind.Match];

    public bool Quotes(Verdict verdict) => verdict.Kind == VerdictKind.Ghost || Named.Contains(verdict.Kind) && verdict.ObservedProcesses.Count > 0;

    public async Task<IVerdictPast?> ReadAsync(int port, DateOnly yesterday, CancellationToken cancellationToken)
    {
        UsageRows rows;
        try
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(Budget);
            rows = await store.ReadAsync(port, null, yesterday, yesterday, budget.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Verdicts of port {Port} answered without their history: {Message}", port, e.Message);
            return null;
        }

        var floor = verdicts.Value.MinHostsPerProcess;
        var history = UsageHistoryBuilder.Build(new UsageQuery(port, null, yesterday, yesterday, UsageGranularity.Day, UsageQuery.MaxTop, Admin: true), rows, floor);
        return new Past(port, history, rows, floor);
    }

    private sealed class Past(int port, GetUsageHistoryResponse history, UsageRows rows, int floor) : IVerdictPast
    {
        public string? SuffixFor(Verdict verdict) => Suffix(port, verdict, history, rows, floor);
    }

    /// <summary>The reason's history; yesterday's hosts below the privacy floor are "fewer than" it, as in every answer to readers.</summary>
    private static string? Suffix(int port, Verdict verdict, GetUsageHistoryResponse history, UsageRows rows, int floor)
    {
        var where = $"{port}/{verdict.Transport.ToString().ToLowerInvariant()}";
        if (verdict.Kind == VerdictKind.Ghost)
        {
            var last = history.Lifetimes.Where(l => l.Transport == verdict.Transport && l.LastSeen is not null).Select(l => l.LastSeen.ToDateTime()).DefaultIfEmpty().Max();
            if (last != default) return $"; last listener seen on {last:yyyy-MM-dd}";
            return rows.ReportingSince is { } since ? $"; nothing seen since reporting began on {UsageHistoryBuilder.Text(since)}" : null;
        }

        if (!Named.Contains(verdict.Kind) || verdict.ObservedProcesses.Count == 0) return null;
        var process = verdict.ObservedProcesses[0];
        var lifetime = history.Lifetimes.Where(l => l.Transport == verdict.Transport && l.ProcessName == process).MinBy(l => l.FirstSeen.ToDateTime());
        if (lifetime is null) return null;
        var yesterdayHosts = history.Series.Where(s => s.Transport == verdict.Transport && s.ProcessName == process).Sum(s => (long)s.Points.Sum(p => p.Hosts));
        var hosts = yesterdayHosts is > 0 && yesterdayHosts < floor ? $"fewer than {floor}" : $"{yesterdayHosts}";
        return $"; {process} on {where} since {lifetime.FirstSeen.ToDateTime():yyyy-MM-dd} (first seen), {hosts} hosts yesterday";
    }
}
