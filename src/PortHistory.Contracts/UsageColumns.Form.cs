namespace PortHistory.Contracts.V1;

/// <summary>
/// A usage series's counts in columns: made from a value per bucket on the server, read back as points by a client.
/// An empty column is 0 in every bucket; withheld buckets are listed by index.
/// </summary>
public sealed partial class UsageColumns
{
    /// <summary>
    /// Columns from a value per bucket in each array. The <paramref name="withheld"/> buckets (ascending) are listed as
    /// such and show 0 in every column (set so in the arrays given); a column that is 0 in every bucket is left empty.
    /// </summary>
    public static UsageColumns Of(uint[] hosts, uint[] reachable, uint[] added, uint[] removed, IReadOnlyList<int> withheld)
    {
        var columns = new UsageColumns();
        foreach (var bucket in withheld)
        {
            (hosts[bucket], reachable[bucket], added[bucket], removed[bucket]) = (0, 0, 0, 0);
            columns.FewerThanFloor.Add((uint)bucket);
        }

        foreach (var (column, values) in new[] { (columns.Hosts, hosts), (columns.Reachable, reachable), (columns.Added, added), (columns.Removed, removed) })
        {
            if (values.AsSpan().IndexOfAnyExcept(0u) >= 0) column.AddRange(values);
        }

        return columns;
    }

    /// <summary>The columns as a point per bucket; <paramref name="buckets"/> are the buckets' first days.</summary>
    /// <exception cref="InvalidDataException">A column's length is not the buckets' count, or a withheld index is out of order or range.</exception>
    public IEnumerable<UsagePoint> ToPoints(IReadOnlyList<string> buckets, string series)
    {
        foreach (var (name, column) in new[] { ("hosts", Hosts), ("reachable", Reachable), ("added", Added), ("removed", Removed) })
        {
            if (column.Count != 0 && column.Count != buckets.Count)
            {
                throw new InvalidDataException($"{series}: {column.Count} {name} values for {buckets.Count} buckets");
            }
        }

        for (var i = 1; i < FewerThanFloor.Count; i++)
        {
            if (FewerThanFloor[i] <= FewerThanFloor[i - 1]) throw new InvalidDataException($"{series}: withheld buckets out of order");
        }

        if (FewerThanFloor.Count > 0 && FewerThanFloor[^1] >= buckets.Count)
        {
            throw new InvalidDataException($"{series}: withheld bucket {FewerThanFloor[^1]} of {buckets.Count}");
        }

        var withheld = 0;
        for (var b = 0; b < buckets.Count; b++)
        {
            var point = new UsagePoint { Start = buckets[b] };
            if (withheld < FewerThanFloor.Count && FewerThanFloor[withheld] == b)
            {
                point.FewerThanFloor = true;
                withheld++;
            }
            else
            {
                point.Hosts = At(Hosts, b);
                point.Reachable = At(Reachable, b);
                point.Added = At(Added, b);
                point.Removed = At(Removed, b);
            }

            yield return point;
        }
    }

    private static uint At(Google.Protobuf.Collections.RepeatedField<uint> column, int bucket) => column.Count == 0 ? 0 : column[bucket];
}
