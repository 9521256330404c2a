using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>What a format parser found in a file, before the caller's overrides (id, date) are applied.</summary>
public sealed record ParsedEdition(
    EditionFileFormat Format,
    string Title,
    DateOnly? Date,
    EditionDateSource DateSource,
    string IdStem,
    ImmutableArray<EditionRecord> Records,
    ImmutableArray<EditionParseWarning> Warnings);

/// <summary>A pure parser of one edition format: bytes in, records and warnings out, or an <see cref="EditionFormatException"/>.</summary>
public interface IEditionParser
{
    EditionFileFormat Format { get; }

    ParsedEdition Parse(EditionContent content);
}
