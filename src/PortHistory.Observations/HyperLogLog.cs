using System.Numerics;

namespace PortHistory.Observations;

/// <summary>
/// Distinct counting in fixed memory (Flajolet et al., HyperLogLog):
/// 2^precision one-byte registers, standard error about 1.04 / sqrt(2^precision). Operates on a caller-owned register
/// array so that grain state can store it as plain bytes. No HyperLogLog package is served to this project, and the
/// algorithm is a few lines.
/// </summary>
public static class HyperLogLog
{
    public static byte[] Create(int precision) => new byte[1 << precision];

    /// <summary>Adds a 64-bit value (mixed first: host hashes are FNV-1a, whose high bits vary too little).</summary>
    public static void Add(byte[] registers, ulong value)
    {
        var precision = BitOperations.Log2((uint)registers.Length);
        var hash = Mix(value);
        var index = (int)(hash >> (64 - precision));
        // Rank of the first set bit among the remaining 64 - precision bits (a guard bit bounds it).
        var rest = (hash << precision) | (1UL << (precision - 1));
        var rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        if (rank > registers[index]) registers[index] = rank;
    }

    /// <summary>Folds <paramref name="other"/> into <paramref name="into"/> (the union's estimate); both of one size.</summary>
    public static void Merge(byte[] into, byte[] other)
    {
        if (into.Length != other.Length) throw new ArgumentException("sketches of different precision", nameof(other));
        for (var i = 0; i < into.Length; i++)
        {
            if (other[i] > into[i]) into[i] = other[i];
        }
    }

    /// <summary>
    /// Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog sketches", 2017): one formula
    /// from the register histogram, without the bias of the classic estimator where it hands over to linear counting.
    /// </summary>
    public static long Estimate(byte[] registers)
    {
        var m = registers.Length;
        var q = 64 - BitOperations.Log2((uint)m);
        var histogram = new int[q + 2];
        foreach (var register in registers) histogram[Math.Min(register, q + 1)]++;

        var z = m * Tau(1 - (double)histogram[q + 1] / m);
        for (var k = q; k >= 1; k--) z = 0.5 * (z + histogram[k]);
        z += m * Sigma((double)histogram[0] / m);
        return (long)Math.Round(m / (2 * Math.Log(2)) * m / z);
    }

    private static double Sigma(double x)
    {
        if (x == 1) return double.PositiveInfinity;
        var (y, z) = (1.0, x);
        while (true)
        {
            x *= x;
            var previous = z;
            z += x * y;
            y += y;
            if (z == previous) return z;
        }
    }

    private static double Tau(double x)
    {
        if (x is 0 or 1) return 0;
        var (y, z) = (1.0, 1 - x);
        while (true)
        {
            x = Math.Sqrt(x);
            var previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
            if (z == previous) return z / 3;
        }
    }

    /// <summary>The 64-bit finalizer of MurmurHash3: every input bit affects every output bit.</summary>
    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return x;
    }
}
