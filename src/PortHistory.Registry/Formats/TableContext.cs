using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>What a table reader shares with its parser: section, columns, output, warnings, reference handling.</summary>
internal sealed partial class TableContext
{
    private readonly List<RecordDraft> _output;
    private readonly List<EditionParseWarning> _warnings;
    private readonly IReadOnlyDictionary<string, RegistryPerson>? _people;

    public TableContext(string section, bool conventional, int descriptionColumn, List<RecordDraft> output,
        List<EditionParseWarning> warnings, IReadOnlyDictionary<string, RegistryPerson>? people = null)
    {
        Section = section;
        Conventional = conventional;
        DescriptionColumn = descriptionColumn;
        _output = output;
        _warnings = warnings;
        _people = people;
    }

    public string Section { get; }
    public bool Conventional { get; }
    public int DescriptionColumn { get; }

    public void Add(RecordDraft draft) => _output.Add(draft);

    public void Warn(int line, string reason, string? text) => _warnings.Add(new EditionParseWarning(line, reason, text));

    /// <summary>
    /// Splits a trailing reference bracket ("[95,JBP]", "[RFC793]") off a description. Numbers cite the edition's
    /// own bibliography; letters are people of the edition's PEOPLE list and become contacts when they resolve.
    /// Brackets that are part of a description ("[Default Data]", "[was netstat]") stay where they are.
    /// </summary>
    public string TakeReferences(string description, RecordDraft draft)
    {
        var match = TrailingReferencePattern().Match(description);
        if (!match.Success) return description.Trim();
        var tokens = match.Groups["refs"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || !tokens.All(t => ReferenceTokenPattern().IsMatch(t))) return description.Trim();

        foreach (var token in tokens)
        {
            if (_people is not null && _people.TryGetValue(token, out var person))
            {
                draft.Contacts.Add(person);
            }
            else
            {
                draft.References.Add(token.All(char.IsDigit) ? $"[{token}]" : token.Replace(" ", ""));
            }
        }

        return description[..match.Index].Trim();
    }

    [GeneratedRegex(@"\[(?<refs>[^\[\]]*)\]\s*$")]
    private static partial Regex TrailingReferencePattern();

    [GeneratedRegex(@"^(?:RFC\s?\d+|\d{1,4}|[A-Z][A-Z0-9]{0,6})$")]
    private static partial Regex ReferenceTokenPattern();
}
