using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Application.Usage;

/// <summary>What a bulk load added.</summary>
public sealed record UsageLoadResult(int Rows, int Series, DateOnly? FirstDay, DateOnly? LastDay);

/// <summary>
/// Bulk loads of past observations: rows checked by <see cref="UsageLoad"/>, then written in one transaction. One load
/// at a time per server: a load holds up to a million rows in memory.
/// </summary>
public sealed class UsageLoader(IProcessDictionary processes, IUsageLoadStore store, ILogger<UsageLoader> logger)
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>A new load, or null while another runs on this server; dispose the load to let the next one in.</summary>
    public UsageLoad? TryBegin(DateOnly today) => _one.Wait(0) ? new UsageLoad(today, () => _one.Release()) : null;

    public async Task<UsageLoadResult> CommitAsync(UsageLoad load, string source, CancellationToken cancellationToken)
    {
        if (load.Errors.Count > 0) throw new InvalidOperationException("a load with errors is not committed");
        var keys = load.Series.Keys.ToList();
        var ids = await processes.IdsAsync([.. keys.Select(k => k.Process)], cancellationToken);
        var deltas = UsageLoadDeltas.Of(keys.Select((k, i) => ((k.Port, k.Transport), ids[i],
            (IReadOnlyList<(DateOnly, int, int)>)[.. load.Series[k].Select(d => (d.Key, d.Value.Hosts, d.Value.Reachable))])));
        await store.AddAsync(deltas, cancellationToken);
        var days = load.Series.Values.SelectMany(s => s.Keys).ToList();
        var result = new UsageLoadResult(load.Rows, keys.Count, days.Count > 0 ? days.Min() : null, days.Count > 0 ? days.Max() : null);
        logger.LogInformation("Usage history loaded from {Source}: {Rows} rows, {Series} series, {First} to {Last}", source, result.Rows, result.Series,
            result.FirstDay, result.LastDay);
        return result;
    }
}
