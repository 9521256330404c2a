using System.Globalization;
using CsCheck;
using Grpc.Core;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>What the server says is printed without its control and bidi characters doing anything.</summary>
public sealed class ServerTextTests
{
    private const string Hostile = "bad \u001b[2J\u001b]0;owned\u0007 txt.exe\u202Egnp.\u2066x\u2069\r\nforged line\u0085";

    [Fact]
    public void Escape_sequences_and_bidi_overrides_are_shown_escaped()
    {
        var printable = ServerText.Printable(Hostile);

        Assert.Equal(@"bad \u001b[2J\u001b]0;owned\u0007 txt.exe\u202egnp.\u2066x\u2069\u000d\u000aforged line\u0085", printable);
    }

    [Fact]
    public void Plain_text_and_other_scripts_stay_as_they_are() =>
        Assert.Equal("seq 7 ≠ 9: épochs 🚀 日本", ServerText.Printable("seq 7 ≠ 9: épochs 🚀 日本"));

    [Fact]
    public void Whatever_the_server_sends_the_printed_text_holds_no_control_format_or_separator_character_and_stays_short() =>
        Gen.String[Gen.Char, 0, 3000].Sample(text =>
        {
            var printable = ServerText.Printable(text);

            Assert.DoesNotContain(printable, c => char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
            Assert.True(printable.Length <= ServerText.MaxLength + 3, $"{printable.Length} characters");
            for (var i = 0; i < printable.Length; i++)
            {
                if (char.IsHighSurrogate(printable[i])) Assert.True(char.IsLowSurrogate(printable[++i]));
                else Assert.False(char.IsLowSurrogate(printable[i]));
            }
        });

    [Fact]
    public async Task A_refused_batch_and_a_failure_detail_from_the_server_are_printed_escaped()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var calls = 0;
        var invoker = new AnsweringInvoker(_ => ++calls == 1
            ? throw new RpcException(new Status(StatusCode.Unavailable, Hostile))
            : new BatchResult { Error = Hostile });
        var sender = new BatchSender(new Sightings.SightingsClient(invoker), () => "t", output, error,
            new CallRetries(delay: (_, _) => Task.CompletedTask, jitter: () => 0));

        await sender.SendBatchAsync(new SightingBatch { BatchId = "b" }, CancellationToken.None);

        var printed = output.ToString() + error;
        Assert.DoesNotContain('\u001b', printed);
        Assert.DoesNotContain('\u202E', printed);
        Assert.Contains(@"refused: bad \u001b[2J", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(@"Unavailable: bad \u001b[2J", error.ToString(), StringComparison.Ordinal);
    }

    private sealed class AnsweringInvoker(Func<object, object> answer) : UnaryCallInvoker
    {
        protected override object Answer(IMethod method, object request, CallOptions options) => answer(request);
    }
}
