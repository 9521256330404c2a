using PortHistory.Observations;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Observations;

/// <summary>
/// Distinct hosts, by their 64-bit hashes: exact up to a limit, then a HyperLogLog sketch of fixed size. Whatever an
/// agent sends, one set costs at most the limit's hashes or the sketch's registers.
/// </summary>
[GenerateSerializer, Alias("porthistory.HostSet")]
public sealed class HostSet
{
    [Id(0)]
    public HashSet<ulong> Exact { get; set; } = [];

    /// <summary>Set once the exact set outgrew its limit; from then on the only count.</summary>
    [Id(1)]
    public byte[]? Sketch { get; set; }

    public bool IsExact => Sketch is null;

    public long Count => Sketch is null ? Exact.Count : HyperLogLog.Estimate(Sketch);

    /// <returns>True when the host is certainly new (only an exact set can tell).</returns>
    public bool Add(ulong host, HostSetLimits limits)
    {
        if (Sketch is not null)
        {
            HyperLogLog.Add(Sketch, host);
            return false;
        }

        if (!Exact.Add(host)) return false;
        if (Exact.Count > limits.ExactHosts) ToSketch(limits);
        return true;
    }

    /// <summary>This set becomes the union of both.</summary>
    public void UnionWith(HostSet other, HostSetLimits limits)
    {
        if (Sketch is null && other.Sketch is null)
        {
            Exact.UnionWith(other.Exact);
            if (Exact.Count > limits.ExactHosts) ToSketch(limits);
            return;
        }

        if (Sketch is null) ToSketch(limits);
        // Sketches of one kind of set share a precision; Merge refuses two that do not.
        if (other.Sketch is { } sketch) HyperLogLog.Merge(Sketch!, sketch);
        else
        {
            foreach (var host in other.Exact) HyperLogLog.Add(Sketch!, host);
        }
    }

    private void ToSketch(HostSetLimits limits)
    {
        var sketch = HyperLogLog.Create(limits.SketchPrecision);
        foreach (var host in Exact) HyperLogLog.Add(sketch, host);
        Sketch = sketch;
        Exact = [];
    }
}

/// <summary>Exact up to <see cref="ExactHosts"/> hosts, then 2^<see cref="SketchPrecision"/> registers.</summary>
public sealed record HostSetLimits(int ExactHosts, int SketchPrecision)
{
    /// <summary>A port's hosts per transport: exact to 1,024, then 4,096 registers (standard error about 1.6%).</summary>
    public static readonly HostSetLimits Transport = new(1024, 12);

    /// <summary>One process's hosts: exact to 256, then 2,048 registers (standard error about 2.3%).</summary>
    public static readonly HostSetLimits Process = new(256, 11);
}
