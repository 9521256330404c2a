using CsCheck;
using PortHistory.Registry.Formats;

namespace PortHistory.Registry.Tests;

/// <summary>Every format's text goes through one collapsing of white space; text already collapsed is handed back as it is.</summary>
public sealed class TextLinesTests
{
    [Fact]
    public void Collapsed_text_is_the_words_joined_by_one_space_and_already_collapsed_text_is_not_copied()
    {
        var text = Gen.String[Gen.OneOf(Gen.Char[" \t\r\n\u00a0\u2003"], Gen.Char['a', 'z'], Gen.Char), 0, 200];
        text.Sample(t =>
        {
            var collapsed = TextLines.CollapseWhitespace(t);
            Assert.Equal(string.Join(' ', t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), collapsed);
            Assert.Same(collapsed, TextLines.CollapseWhitespace(collapsed));
        }, iter: 20_000);
    }
}
