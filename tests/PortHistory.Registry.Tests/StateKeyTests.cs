using CsCheck;
using PortHistory.Registry.History;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>
/// Semantic keys are stored (hashed) beside the query index, so the way a description is folded into one must never
/// change: these tests hold it to the plain definition, split at white space, joined, trailing dots dropped, lower-cased.
/// </summary>
public sealed class StateKeyTests
{
    private static string Definition(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.').ToLowerInvariant();

    [Fact]
    public void Generated_text_folds_as_the_definition_says()
    {
        var text = Gen.String[Gen.OneOf(Gen.Char[" \t\r\n\u00a0\u2003.."], Gen.Char['A', 'z'], Gen.Char['\u00c0', '\u024f'], Gen.Char), 0, 700];
        text.Sample(t => Assert.Equal(Definition(t), PortStates.Text(t)), iter: 20_000);
    }

    [Fact]
    public void Every_description_of_the_newest_edition_folds_as_the_definition_says()
    {
        foreach (var record in RegistryData.Edition("service-names-port-numbers_2026-08-17.xml").Records)
        {
            Assert.Equal(Definition(record.Description), PortStates.Text(record.Description));
        }
    }
}
