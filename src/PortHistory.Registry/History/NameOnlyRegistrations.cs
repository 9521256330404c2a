using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>Registrations without a port (a service name only), per (lower-case name, transport).</summary>
internal static class NameOnlyRegistrations
{
    /// <summary>What one edition lists per (name, transport), normalised as port states are.</summary>
    public static Dictionary<(string, TransportProtocol), EditionRecord[]> States(RegistryEdition edition) =>
        edition.Records.Where(r => r.Ports is null && r.ServiceName is not null)
            .GroupBy(r => (r.ServiceName!.ToLowerInvariant(), r.Transport))
            .ToDictionary(g => g.Key, g => PortStates.Normalize(g.ToList()));

    /// <summary>The versions of every name-only registration across editions in history order.</summary>
    public static ImmutableArray<NameOnlyTimeline> Timelines(ImmutableArray<RegistryEdition> editions, EditionIdentity[] refs)
    {
        var perEdition = editions.Select(States).ToList();
        var keys = perEdition.SelectMany(d => d.Keys).Distinct().OrderBy(k => k.Item2).ThenBy(k => k.Item1, StringComparer.Ordinal);
        var timelines = ImmutableArray.CreateBuilder<NameOnlyTimeline>();
        foreach (var key in keys)
        {
            var states = perEdition.Select(d => d.GetValueOrDefault(key) ?? PortStates.Empty).ToArray();
            var (versions, _) = TimelineBuilder.Build(states, refs);
            var name = versions.SelectMany(v => v.Records).Select(r => r.ServiceName).First(n => n is not null)!;
            timelines.Add(new NameOnlyTimeline(name, key.Item2, versions));
        }

        return timelines.ToImmutable();
    }
}
