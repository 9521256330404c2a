namespace PortHistory.Registry.History;

public static class RenameChains
{
    /// <summary>Every link reachable from a name through old → new names, in either direction, oldest first.</summary>
    public static IReadOnlyList<ServiceRename> Follow(IEnumerable<ServiceRename> links, string name)
    {
        var all = links.ToList();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { name.Trim() };
        var chain = new List<ServiceRename>();
        var grew = true;
        while (grew)
        {
            grew = false;
            foreach (var link in all)
            {
                if (chain.Contains(link) || !(names.Contains(link.From) || names.Contains(link.To))) continue;
                chain.Add(link);
                names.Add(link.From);
                names.Add(link.To);
                grew = true;
            }
        }

        return [.. chain.OrderBy(l => l.Edition.Date).ThenBy(l => l.Ports.First).ThenBy(l => l.Transport)];
    }
}
