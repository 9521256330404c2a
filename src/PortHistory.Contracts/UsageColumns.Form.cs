namespace PortHistory.Contracts.V1;

/// <summary>
/// A usage series's counts in columns: written bucket by bucket on the server, read back as points by a client. An
/// empty column is 0 in every bucket; withheld buckets are listed by index.
/// </summary>
public sealed partial class UsageColumns
{
    /// <summary>Appends the next bucket's counts; a withheld bucket shows 0 in every column and is listed as withheld.</summary>
    public void Append(uint hosts, uint reachable, uint added, uint removed, bool withheld)
    {
        if (withheld)
        {
            FewerThanFloor.Add((uint)Hosts.Count);
            (hosts, reachable, added, removed) = (0, 0, 0, 0);
        }

        Hosts.Add(hosts);
        Reachable.Add(reachable);
        Added.Add(added);
        Removed.Add(removed);
    }

    /// <summary>Empties the columns that are 0 in every bucket, once every bucket is appended.</summary>
    public UsageColumns Trimmed()
    {
        foreach (var column in new[] { Hosts, Reachable, Added, Removed })
        {
            if (column.All(v => v == 0)) column.Clear();
        }

        return this;
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
