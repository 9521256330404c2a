using System.Collections.Immutable;

namespace PortHistory.Registry.Model;

public enum EditionDateSource : byte
{
    /// <summary>Read from the content: RFC date line, "(last updated …)", XML &lt;updated&gt;.</summary>
    Content = 1,

    /// <summary>Given by the caller.</summary>
    Override = 2,

    /// <summary>Inferred: the newest registration/modification date in a CSV, or a local file's modification time.</summary>
    Inferred = 3,

    /// <summary>A yyyy-MM-dd in the file name, for a format whose content has no date (CSV, local files).</summary>
    FileName = 4,
}

/// <summary>A line the parser could not turn into a record, or a fact worth knowing about the file.</summary>
public sealed record EditionParseWarning(int Line, string Reason, string? Text = null)
{
    public override string ToString() => Text is null ? $"line {Line}: {Reason}" : $"line {Line}: {Reason}: {Text}";
}

/// <summary>One published edition of the registry (or one local services file), parsed.</summary>
public sealed record RegistryEdition
{
    public required string Id { get; init; }
    public required EditionFileFormat Format { get; init; }
    public required string Title { get; init; }
    public required DateOnly EffectiveDate { get; init; }
    public required EditionDateSource DateSource { get; init; }

    /// <summary>Where the bytes came from: a path or URL.</summary>
    public required string Source { get; init; }

    /// <summary>Lower-case hex SHA-256 of the exact bytes parsed; the edition's identity for idempotent imports.</summary>
    public required string Sha256 { get; init; }

    public required long Bytes { get; init; }
    public required ImmutableArray<EditionRecord> Records { get; init; }
    public ImmutableArray<EditionParseWarning> Warnings { get; init; } = [];

    public bool IsLocal => Format.IsLocal();

    public override string ToString() => $"{Id} ({Format.ToText()}, {EffectiveDate:yyyy-MM-dd}, {Records.Length} records)";
}
