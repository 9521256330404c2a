using PortHistory.Observations;

namespace PortHistory.Observations.Tests;

/// <summary>Distinct counting in fixed memory: accurate within its standard error, idempotent, mergeable, exact when small.</summary>
public sealed class HyperLogLogTests
{
    private const int Precision = 12;

    /// <summary>Four standard errors of 2^12 registers: 4 × 1.04 / √4096 ≈ 6.5%.</summary>
    private static readonly double Tolerance = 4 * 1.04 / Math.Sqrt(1 << Precision);

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(100_000)]
    public void Distinct_random_values_are_estimated_within_four_standard_errors(int count)
    {
        var registers = Sketch(DistinctRandomValues(count, seed: count));

        AssertWithinTolerance(count, HyperLogLog.Estimate(registers));
    }

    /// <summary>
    /// Host hashes are FNV-1a of similar names, whose high bits vary little: without the mixing step they would land in
    /// a few registers and the estimate would be a small fraction of the truth.
    /// </summary>
    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(100_000)]
    public void Hashes_of_sequential_host_names_are_estimated_within_four_standard_errors(int count)
    {
        var registers = Sketch(Enumerable.Range(1, count).Select(i => HostRefs.Hash($"host-{i}")));

        AssertWithinTolerance(count, HyperLogLog.Estimate(registers));
    }

    [Fact]
    public void Adding_the_same_values_again_changes_nothing()
    {
        var values = DistinctRandomValues(20_000, seed: 7);
        var registers = Sketch(values);
        var once = (byte[])registers.Clone();
        var estimate = HyperLogLog.Estimate(registers);

        for (var i = values.Length - 1; i >= 0; i--) HyperLogLog.Add(registers, values[i]);

        Assert.Equal(once, registers);
        Assert.Equal(estimate, HyperLogLog.Estimate(registers));
    }

    [Fact]
    public void Merging_sketches_of_disjoint_sets_estimates_the_union()
    {
        var values = DistinctRandomValues(100_000, seed: 11);
        var merged = Sketch(values[..30_000]);

        HyperLogLog.Merge(merged, Sketch(values[30_000..]));

        // The merge is the sketch of the union, register for register, whichever way the values were split.
        Assert.Equal(Sketch(values), merged);
        AssertWithinTolerance(values.Length, HyperLogLog.Estimate(merged));
    }

    [Fact]
    public void Merging_sketches_of_different_precision_is_refused() =>
        Assert.Throws<ArgumentException>(() => HyperLogLog.Merge(HyperLogLog.Create(Precision), HyperLogLog.Create(Precision - 1)));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)]
    public void Small_cardinalities_are_exact_or_within_one(int count)
    {
        var registers = Sketch(DistinctRandomValues(count, seed: 100 + count));

        Assert.InRange(HyperLogLog.Estimate(registers), count - 1L, count + 1L);
    }

    [Fact]
    public void An_empty_sketch_estimates_zero() => Assert.Equal(0L, HyperLogLog.Estimate(HyperLogLog.Create(Precision)));

    private static byte[] Sketch(IEnumerable<ulong> values)
    {
        var registers = HyperLogLog.Create(Precision);
        foreach (var value in values) HyperLogLog.Add(registers, value);
        return registers;
    }

    private static void AssertWithinTolerance(long expected, long estimate) =>
        Assert.InRange(estimate, (long)Math.Floor(expected * (1 - Tolerance)), (long)Math.Ceiling(expected * (1 + Tolerance)));

    /// <summary>Distinct 64-bit values from a seeded generator: the same values on every run.</summary>
    private static ulong[] DistinctRandomValues(int count, int seed)
    {
        var random = new Random(seed);
        var values = new HashSet<ulong>(count);
        var bytes = new byte[sizeof(ulong)];
        while (values.Count < count)
        {
            random.NextBytes(bytes);
            values.Add(BitConverter.ToUInt64(bytes));
        }

        return [.. values];
    }
}
