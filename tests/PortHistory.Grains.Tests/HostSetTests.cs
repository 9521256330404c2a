using PortHistory.Grains.Observations;
using PortHistory.Observations;

namespace PortHistory.Grains.Tests;

/// <summary>Distinct hosts: exact up to a limit, then a sketch of fixed size; unions of either kind.</summary>
public sealed class HostSetTests
{
    private static readonly HostSetLimits Limits = HostSetLimits.Process;

    /// <summary>Four standard errors of the sketch the limits switch to (2^11 registers: 4 × 1.04 / √2048 ≈ 9.2%).</summary>
    private static readonly double Tolerance = 4 * 1.04 / Math.Sqrt(1 << Limits.SketchPrecision);

    [Fact]
    public void Up_to_the_limit_the_set_is_exact_and_tells_new_hosts_from_repeats()
    {
        var set = new HostSet();

        for (var i = 0; i < Limits.ExactHosts; i++)
        {
            Assert.True(set.Add(Host(i), Limits));
            Assert.False(set.Add(Host(i), Limits));
            Assert.Equal(i + 1L, set.Count);
        }

        for (var i = 0; i < Limits.ExactHosts; i++) Assert.False(set.Add(Host(i), Limits));

        Assert.True(set.IsExact);
        Assert.Equal((long)Limits.ExactHosts, set.Count);
    }

    [Fact]
    public void One_host_beyond_the_limit_turns_the_set_into_a_sketch_of_fixed_size()
    {
        var set = Set(0, Limits.ExactHosts);

        // The host that overflows the exact set is still known to be new; after it, a sketch cannot tell.
        Assert.True(set.Add(Host(Limits.ExactHosts), Limits));
        Assert.False(set.Add(Host(Limits.ExactHosts + 1), Limits));

        Assert.False(set.IsExact);
        Assert.Empty(set.Exact);
        Assert.NotNull(set.Sketch);
        Assert.Equal(1 << Limits.SketchPrecision, set.Sketch.Length);
        AssertWithinTolerance(Limits.ExactHosts + 2, set.Count);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(100_000)]
    public void A_sketch_counts_within_its_error_in_the_same_memory_whatever_the_count(int hosts)
    {
        var set = Set(0, hosts);

        Assert.False(set.IsExact);
        Assert.Empty(set.Exact);
        Assert.NotNull(set.Sketch);
        Assert.Equal(1 << Limits.SketchPrecision, set.Sketch.Length);
        AssertWithinTolerance(hosts, set.Count);
    }

    [Fact]
    public void The_union_of_two_small_exact_sets_is_exact()
    {
        var set = Set(0, 100);
        var other = Set(50, 150);

        set.UnionWith(other, Limits);

        Assert.True(set.IsExact);
        Assert.Equal(150L, set.Count);
        Assert.Equal(Enumerable.Range(0, 150).Select(Host).Order().ToArray(), set.Exact.Order().ToArray());
        Assert.Equal(100L, other.Count);
    }

    [Fact]
    public void The_union_of_two_exact_sets_beyond_the_limit_becomes_the_sketch_of_the_union()
    {
        var set = Set(0, Limits.ExactHosts - 50);
        var other = Set(Limits.ExactHosts - 100, Limits.ExactHosts + 100);

        set.UnionWith(other, Limits);

        Assert.False(set.IsExact);
        Assert.NotNull(set.Sketch);
        Assert.Equal(SketchOf(0, Limits.ExactHosts + 100), set.Sketch);
        AssertWithinTolerance(Limits.ExactHosts + 100, set.Count);
    }

    [Fact]
    public void The_union_of_an_exact_set_and_a_sketch_is_the_sketch_of_the_union()
    {
        var set = Set(0, 100);
        var other = Set(100, 5_100);
        Assert.True(set.IsExact);
        Assert.False(other.IsExact);

        set.UnionWith(other, Limits);

        Assert.False(set.IsExact);
        Assert.NotNull(set.Sketch);
        Assert.Equal(SketchOf(0, 5_100), set.Sketch);
        AssertWithinTolerance(5_100, set.Count);
    }

    [Fact]
    public void The_union_of_a_sketch_and_an_exact_set_is_the_sketch_of_the_union()
    {
        var set = Set(0, 5_000);
        var other = Set(5_000, 5_100);
        Assert.False(set.IsExact);
        Assert.True(other.IsExact);

        set.UnionWith(other, Limits);

        Assert.False(set.IsExact);
        Assert.NotNull(set.Sketch);
        Assert.Equal(SketchOf(0, 5_100), set.Sketch);
        AssertWithinTolerance(5_100, set.Count);
    }

    [Fact]
    public void The_union_of_two_overlapping_sketches_is_the_sketch_of_the_union()
    {
        var set = Set(0, 6_000);
        var other = Set(4_000, 10_000);

        set.UnionWith(other, Limits);

        Assert.False(set.IsExact);
        Assert.NotNull(set.Sketch);
        Assert.Equal(SketchOf(0, 10_000), set.Sketch);
        AssertWithinTolerance(10_000, set.Count);
    }

    private static ulong Host(int i) => HostRefs.Hash($"host-{i}");

    /// <summary>The hosts <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), added one by one.</summary>
    private static HostSet Set(int from, int to)
    {
        var set = new HostSet();
        for (var i = from; i < to; i++) set.Add(Host(i), Limits);
        return set;
    }

    /// <summary>A sketch of the limits' precision holding the hosts <paramref name="from"/> to <paramref name="to"/> (exclusive).</summary>
    private static byte[] SketchOf(int from, int to)
    {
        var registers = HyperLogLog.Create(Limits.SketchPrecision);
        for (var i = from; i < to; i++) HyperLogLog.Add(registers, Host(i));
        return registers;
    }

    private static void AssertWithinTolerance(long expected, long count) =>
        Assert.InRange(count, (long)Math.Floor(expected * (1 - Tolerance)), (long)Math.Ceiling(expected * (1 + Tolerance)));
}
