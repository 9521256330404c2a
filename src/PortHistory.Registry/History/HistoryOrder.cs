using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// The order of editions in a history: effective date, then format (the 2024-04-30 CSV before the XML of that date),
/// then id, so that the order editions arrive in never matters.
/// </summary>
public static class HistoryOrder
{
    public static int Compare(EditionIdentity x, EditionIdentity y)
    {
        var byDate = x.Date.CompareTo(y.Date);
        if (byDate != 0) return byDate;
        var byFormat = x.Format.OrderRank().CompareTo(y.Format.OrderRank());
        return byFormat != 0 ? byFormat : string.CompareOrdinal(x.Id, y.Id);
    }
}
