using CsCheck;
using PortHistory.Contracts;

namespace PortHistory.Server.UnitTests;

/// <summary>
/// The character policy for text from the wire: bounded length; no control characters, no bidirectional controls, no
/// unpaired surrogates; ordinary names in any script pass.
/// </summary>
public sealed class WireTextTests
{
    private const int MaxLength = 256;

    /// <summary>What names are made of: letters of several scripts, digits, punctuation and spaces.</summary>
    private const string Ordinary = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_/@+=()[]#~%&'!?*éüßøåçñÉÅЖждλΩ中文日本語한국";

    /// <summary>
    /// One of each kind the policy refuses, as UTF-16 code units: C0 controls (NUL, TAB, LF, CR, ESC, US), DEL, C1
    /// controls (PAD, NEL, APC), the bidirectional controls (ALM, LRM, RLM, LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
    /// PDI), and lone surrogates of either half.
    /// </summary>
    private static readonly int[] Forbidden =
    [
        0x0000, 0x0009, 0x000A, 0x000D, 0x001B, 0x001F,
        0x007F,
        0x0080, 0x0085, 0x009F,
        0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
        0xD800, 0xDBFF, 0xDC00, 0xDFFF,
    ];

    public static TheoryData<int> ForbiddenCodeUnits()
    {
        var data = new TheoryData<int>();
        foreach (var codeUnit in Forbidden) data.Add(codeUnit);
        return data;
    }

    [Theory]
    [MemberData(nameof(ForbiddenCodeUnits))]
    public void A_forbidden_character_is_refused_at_the_start_in_the_middle_at_the_end_and_alone(int codeUnit)
    {
        var c = (char)codeUnit;
        foreach (var value in new[] { $"{c}rpcbind", $"rpc{c}bind", $"rpcbind{c}", $"{c}" })
        {
            var reason = WireText.Check(value, MaxLength);

            Assert.NotNull(reason);
            // The reason says where the character is.
            Assert.EndsWith($" at {value.IndexOf(c)}", reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ordinary_text_of_any_length_up_to_the_limit_is_accepted() =>
        Gen.String[Gen.Char[Ordinary], 0, MaxLength]
            .Sample(value => Assert.Null(WireText.Check(value, MaxLength)), iter: 1_000);

    [Fact]
    public void One_forbidden_character_anywhere_in_ordinary_text_gets_it_refused() =>
        Gen.Select(Gen.String[Gen.Char[Ordinary], 0, MaxLength - 1], Gen.Int[0, Forbidden.Length - 1], Gen.Int[0, MaxLength - 1])
            .Sample((text, which, position) =>
            {
                var at = Math.Min(position, text.Length);
                var value = text.Insert(at, ((char)Forbidden[which]).ToString());

                var reason = WireText.Check(value, MaxLength);

                Assert.NotNull(reason);
                Assert.EndsWith($" at {at}", reason, StringComparison.Ordinal);
            }, iter: 1_000);

    [Fact]
    public void Ordinary_text_longer_than_the_limit_is_refused() =>
        Gen.String[Gen.Char[Ordinary], MaxLength + 1, 4 * MaxLength]
            .Sample(value => Assert.NotNull(WireText.Check(value, MaxLength)), iter: 200);

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(4096)]
    public void Text_is_accepted_at_its_limit_and_refused_one_character_beyond(int maxLength)
    {
        Assert.Null(WireText.Check(new string('a', maxLength), maxLength));
        Assert.NotNull(WireText.Check(new string('a', maxLength + 1), maxLength));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("     ")]
    [InlineData("\u00A0")]
    [InlineData("\u3000")]
    public void Blank_text_is_refused_where_required_and_accepted_where_optional(string value)
    {
        Assert.NotNull(WireText.Check(value, MaxLength, required: true));
        Assert.Null(WireText.Check(value, MaxLength));
    }

    [Theory]
    [InlineData("sshd")]
    [InlineData("/usr/sbin/rpc.statd")]
    [InlineData("postgres: checkpointer")]
    [InlineData("java -jar app.jar")]
    [InlineData("Müller-Lüdenscheidt")]
    [InlineData("сервер-01")]
    [InlineData("服务器")]
    [InlineData("خادم")]
    [InlineData("k8s-node-7f9c")]
    public void Ordinary_names_are_accepted(string value) =>
        Assert.Null(WireText.Check(value, MaxLength, required: true));

    [Fact]
    public void A_valid_surrogate_pair_is_accepted()
    {
        var rocket = char.ConvertFromUtf32(0x1F680);

        Assert.Null(WireText.Check(rocket, MaxLength, required: true));
        Assert.Null(WireText.Check($"deploy-{rocket}-bot", MaxLength));
        Assert.Null(WireText.Check(rocket + rocket, MaxLength));
    }

    [Fact]
    public void Surrogates_out_of_their_pair_are_refused()
    {
        var rocket = char.ConvertFromUtf32(0x1F680);
        var (high, low) = (rocket[0], rocket[1]);

        Assert.NotNull(WireText.Check($"{low}{high}", MaxLength));
        Assert.NotNull(WireText.Check($"deploy-{high}", MaxLength));
        Assert.NotNull(WireText.Check($"{low}-deploy", MaxLength));
        Assert.NotNull(WireText.Check($"{high}x{low}", MaxLength));
        Assert.NotNull(WireText.Check($"{high}{high}{low}", MaxLength));
    }
}
