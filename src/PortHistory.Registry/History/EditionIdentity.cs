using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>A light reference to an edition, as timelines and answers cite it.</summary>
public sealed record EditionIdentity(string Id, DateOnly Date, EditionFileFormat Format, string Title)
{
    public static EditionIdentity Of(RegistryEdition edition) => new(edition.Id, edition.EffectiveDate, edition.Format, edition.Title);

    public override string ToString() => $"{Id} ({Date:yyyy-MM-dd})";
}
