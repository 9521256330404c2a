using CsCheck;
using PortHistory.Cli.Expectations;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Tests;

/// <summary>The expectations file kept in git: what export writes, import reads back unchanged; a bad line is named.</summary>
public sealed class ExpectationFileTests
{
    private static readonly Gen<string> Name = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@:+"], 1, 40];

    private static readonly Gen<ExpectationView> Expectation = Gen.Select(
        Gen.Int[0, 65535],
        Gen.Int[1, 4].Select(t => (TransportProtocol)t),
        Name,
        Name.Null(),
        // Notes are free text: spaces, "#", non-ASCII, but no line breaks (the server refuses control characters).
        Gen.String[Gen.Char.Where(c => !char.IsControl(c) && !char.IsSurrogate(c)), 0, 80].Select(n => n.Trim()).Select(n => n.Length == 0 ? null : n),
        (port, transport, process, group, note) => new ExpectationView(port, transport, process, group, note));

    [Fact]
    public void Written_expectations_read_back_the_same() =>
        Expectation.List[0, 30].Sample(expectations =>
        {
            var read = ExpectationFile.Parse(ExpectationFile.Write(expectations), "expectations.txt");

            Assert.Equal(Sorted(expectations), read);
        }, iter: 500);

    [Fact]
    public void The_file_reads_as_documented()
    {
        var read = ExpectationFile.Parse("""
            # comment
            776/udp rpc.statd # NFS status monitor

            5432/tcp	postgres  group=db
            """, "e.txt");

        Assert.Equal([new ExpectationView(776, TransportProtocol.Udp, "rpc.statd", null, "NFS status monitor"), new ExpectationView(5432, TransportProtocol.Tcp, "postgres", "db", null)], read);
    }

    [Theory]
    [InlineData("776 rpc.statd", "e.txt:1: expected PORT/TRANSPORT such as 776/udp")]
    [InlineData("70000/udp rpc.statd", "e.txt:1: port must be a number 0-65535")]
    [InlineData("776/icmp rpc.statd", "e.txt:1: transport must be tcp, udp, sctp or dccp")]
    [InlineData("776/udp", "e.txt:1: expected PORT/TRANSPORT PROCESS")]
    [InlineData("776/udp rpc.statd extra", "e.txt:1: unexpected \"extra\"")]
    [InlineData("776/udp rpc.statd group=a group=b", "e.txt:1: unexpected \"group=b\"")]
    public void A_bad_line_is_named_with_its_number(string line, string message)
    {
        var error = Assert.Throws<UsageException>(() => ExpectationFile.Parse(line, "e.txt"));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    private static List<ExpectationView> Sorted(IEnumerable<ExpectationView> expectations) =>
    [
        .. expectations.OrderBy(e => e.Port).ThenBy(e => e.Transport).ThenBy(e => e.Process, StringComparer.Ordinal).ThenBy(e => e.Group, StringComparer.Ordinal),
    ];
}
