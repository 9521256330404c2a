using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Grains.Ports;

/// <summary>What verdicts need to know of the registry's version in effect on a (port, transport): the assigned service and how long it has held.</summary>
public static class RegistrySides
{
    /// <param name="version">The version in effect; null when the port is not listed.</param>
    /// <param name="edition">The edition a stored reference stands for now (the catalog's copy of it).</param>
    public static RegistrySide Of(TimelineVersion? version, Func<EditionRef, EditionRef> edition)
    {
        var assigned = version?.Records.Where(r => r.Status == AssignmentStatus.Assigned).ToList() ?? [];
        var status = version is null || version.Records.Count == 0 ? "not listed" : version.Records[0].Status.ToDomain().ToText();
        if (assigned.Count == 0) return new RegistrySide(null, [], null, status);
        var primary = assigned[0];
        var name = primary.ServiceName.Length > 0 ? primary.ServiceName : $"\"{primary.Description}\"";
        var names = assigned.SelectMany(r => r.Aliases.Prepend(r.ServiceName)).Where(n => n.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var from = edition(version!.From).ToDomain();
        var heldSince = version.HeldSince is { } held ? edition(held).ToDomain() : from;
        return new RegistrySide(name, names, HoldingWords.Cite(heldSince), status)
        {
            ConventionalSince = version.ConventionalSince is { } conventional ? HoldingWords.Cite(edition(conventional).ToDomain()) : null,
            LastChange = HoldingWords.LastChange(heldSince, from, version.Changes.Select(c => c.ToDomain())),
        };
    }
}
