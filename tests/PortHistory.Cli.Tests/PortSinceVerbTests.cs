using PortHistory.Testing;

namespace PortHistory.Cli.Tests;

/// <summary>
/// `port` offline from every real edition: SINCE is where the unbroken assignment began, and a line under the table says
/// what came before it (RFC 1060's conventional use) and when the record changed later (PROVENANCE.md's facts table).
/// </summary>
public sealed class PortSinceVerbTests
{
    [Fact]
    public async Task Port_776_is_wpages_since_rfc1340_after_conventional_use_in_rfc1060_with_the_contact_added_in_2004()
    {
        var run = await CliRun.RunAsync("--editions", RegistryData.Directory, "port", "776");

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        var lines = run.Output.Split('\n').Select(l => l.TrimEnd()).ToList();
        foreach (var transport in new[] { "tcp", "udp" })
        {
            Assert.Single(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{transport}\s+wpages\s+assigned\s+Josyula R\. Rao <jrrao@watson\.ibm\.com>\s+rfc1340 \(1992-07-01\)\s+WELL KNOWN PORT NUMBERS$"));
            Assert.Contains($"776/{transport}: conventional use since rfc1060 (1990-03-01); record last changed 2004-01-08: contact added", lines);
        }

        Assert.DoesNotContain("iana-text-2004-01-08 (2004-01-08)", run.Output);
    }

    [Theory]
    [InlineData(770, "cadlock", null, "rfc1060")]
    [InlineData(771, "rtip", "rfc1060", null)]
    [InlineData(772, "cycleserv2", "rfc1060", null)]
    public async Task Ports_770_to_772_are_held_since_rfc1340_in_json_with_the_conventional_use_rfc1060_lists(int port, string service,
        string? tcpConventional, string? udpConventional)
    {
        var run = await CliRun.RunAsync("--editions", RegistryData.Directory, "port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");

        Assert.Equal(0, run.ExitCode);
        var transports = run.Json().GetProperty("transports").EnumerateArray().ToDictionary(t => t.GetProperty("transport").GetString()!);
        foreach (var (transport, conventional) in new[] { ("tcp", tcpConventional), ("udp", udpConventional) })
        {
            var answer = transports[transport];
            Assert.Equal(service, answer.GetProperty("records")[0].GetProperty("serviceName").GetString());
            Assert.Equal(("rfc1340", "1992-07-01"), (answer.GetProperty("heldSince").GetProperty("id").GetString(), answer.GetProperty("heldSince").GetProperty("date").GetString()));
            Assert.Equal("rfc1340", answer.GetProperty("since").GetProperty("id").GetString());
            Assert.Equal(conventional, answer.TryGetProperty("conventionalSince", out var since) ? since.GetProperty("id").GetString() : null);
        }
    }

    [Fact]
    public async Task In_1991_rtip_on_771_tcp_is_conventional_use_since_rfc1060_and_771_udp_is_not_listed()
    {
        var run = await CliRun.RunAsync("--editions", RegistryData.Directory, "port", "771", "--as-of", "1991-01-01");

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"(?m)^tcp\s+rtip\s+conventional\s+rfc1060 \(1990-03-01\)\s+UNIX PORTS\s*$", run.Output);
        Assert.Matches(@"(?m)^udp\s+\(not listed\)\s*$", run.Output);
        Assert.DoesNotContain("conventional use since", run.Output);
    }
}
