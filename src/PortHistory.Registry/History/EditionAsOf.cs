namespace PortHistory.Registry.History;

/// <summary>Which edition answers for a date: the rule the library, the CLI and the port grains share.</summary>
public static class EditionAsOf
{
    /// <summary>
    /// The index of the newest edition in effect on <paramref name="date"/> (effective on or before it) among editions
    /// in history order, or -1 when the date is before the first.
    /// </summary>
    public static int EditionIndex<TEdition>(IReadOnlyList<TEdition> editionsInOrder, Func<TEdition, DateOnly> effectiveDate, DateOnly date)
    {
        var index = -1;
        for (var i = 0; i < editionsInOrder.Count && effectiveDate(editionsInOrder[i]) <= date; i++) index = i;
        return index;
    }
}
