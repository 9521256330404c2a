using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>History order: effective date, then format rank, then id, so the order editions arrive in never matters.</summary>
internal sealed class EditionOrder : IComparer<RegistryEdition>
{
    public static readonly EditionOrder Instance = new();

    public int Compare(RegistryEdition? x, RegistryEdition? y)
    {
        var byDate = x!.EffectiveDate.CompareTo(y!.EffectiveDate);
        if (byDate != 0) return byDate;
        var byFormat = x.Format.OrderRank().CompareTo(y.Format.OrderRank());
        return byFormat != 0 ? byFormat : string.CompareOrdinal(x.Id, y.Id);
    }
}
