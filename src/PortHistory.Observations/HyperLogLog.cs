using System.Numerics;

namespace PortHistory.Observations;

/// <summary>
/// Distinct counting in fixed memory (Flajolet et al., HyperLogLog, with linear counting for small cardinalities):
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

    public static long Estimate(byte[] registers)
    {
        var m = registers.Length;
        var sum = 0.0;
        var zeros = 0;
        foreach (var register in registers)
        {
            sum += Math.ScaleB(1.0, -register);
            if (register == 0) zeros++;
        }

        var alpha = m switch { 16 => 0.673, 32 => 0.697, 64 => 0.709, _ => 0.7213 / (1 + 1.079 / m) };
        var estimate = alpha * m * m / sum;
        if (estimate <= 2.5 * m && zeros > 0) estimate = m * Math.Log((double)m / zeros);
        return (long)Math.Round(estimate);
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
