namespace PortHistory.Registry.Model;

/// <summary>An edition without its records: what catalogs and listings show.</summary>
public sealed record EditionOverview(
    string Id,
    EditionFileFormat Format,
    string Title,
    DateOnly EffectiveDate,
    EditionDateSource DateSource,
    string Source,
    string Sha256,
    long Bytes,
    int Records,
    int Warnings)
{
    public static EditionOverview Of(RegistryEdition edition) => new(edition.Id, edition.Format, edition.Title, edition.EffectiveDate,
        edition.DateSource, edition.Source, edition.Sha256, edition.Bytes, edition.Records.Length, edition.Warnings.Length);
}
