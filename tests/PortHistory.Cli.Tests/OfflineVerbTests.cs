using System.Text.Json;
using PortHistory.Testing;

namespace PortHistory.Cli.Tests;

/// <summary>The offline verbs against the real edition files, in tables and in JSON.</summary>
public sealed class OfflineVerbTests
{
    private static readonly string Editions = RegistryData.Directory;

    private static string[] Files(params string[] names) => [.. names.SelectMany(n => new[] { "--edition", RegistryData.PathOf(n) })];

    [Fact]
    public async Task Port_as_of_1991_shows_771_tcp_as_conventional_rtip_from_rfc1060()
    {
        var run = await CliRun.RunAsync([.. Files("rfc1010.txt", "rfc1060.txt", "rfc1340.txt"), "port", "771", "--as-of", "1991-01-01", "--json"]);

        Assert.Equal(0, run.ExitCode);
        var answer = run.Json();
        Assert.Equal("rfc1060", answer.GetProperty("edition").GetProperty("id").GetString());
        var tcp = answer.GetProperty("transports").EnumerateArray().Single(s => s.GetProperty("transport").GetString() == "tcp");
        var record = tcp.GetProperty("records")[0];
        Assert.Equal("rtip", record.GetProperty("serviceName").GetString());
        Assert.Equal("conventional", record.GetProperty("status").GetString());
        Assert.Equal("UNIX PORTS", record.GetProperty("section").GetString());
    }

    [Fact]
    public async Task Port_table_as_of_1993_shows_rtip_assigned_on_both_transports()
    {
        var run = await CliRun.RunAsync([.. Files("rfc1060.txt", "rfc1340.txt"), "port", "771", "--as-of", "1993-01-01"]);

        Assert.Equal(0, run.ExitCode);
        var rows = run.Output.Split('\n').Where(l => l.StartsWith("tcp", StringComparison.Ordinal) || l.StartsWith("udp", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Matches(@"^(tcp|udp)\s+rtip\s+assigned\s+rfc1340", r));
    }

    [Fact]
    public async Task Timeline_service_diff_and_ports_answer_from_a_directory_of_editions()
    {
        var timeline = await CliRun.RunAsync("--editions", Editions, "timeline", "776", "--transport", "udp", "--json");
        Assert.Equal(0, timeline.ExitCode);
        var versions = timeline.Json().GetProperty("timelines")[0].GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal("rfc1340", versions.First(v => v.GetProperty("records")[0].GetProperty("status").GetString() == "assigned").GetProperty("from").GetProperty("id").GetString());
        Assert.Equal("iana-xml-2026-08-17", versions[^1].GetProperty("through").GetProperty("id").GetString());
        Assert.Equal("Josyula R. Rao", versions[^1].GetProperty("records")[0].GetProperty("contacts")[0].GetProperty("name").GetString());

        var service = await CliRun.RunAsync("--editions", Editions, "service", "wpages");
        Assert.Equal(0, service.ExitCode);
        Assert.Matches(@"776\s+tcp\s+wpages\s+assigned\s+rfc1340 \(1992-07-01\)\s+iana-xml-2026-08-17", service.Output);
        Assert.Matches(@"776\s+udp\s+wpages\s+assigned\s+rfc1340 \(1992-07-01\)\s+iana-xml-2026-08-17", service.Output);

        var diff = await CliRun.RunAsync("--editions", Editions, "diff", "iana-xml-2024-04-30", "2026-08-17", "--ports", "0-1023", "--json");
        Assert.Equal(0, diff.ExitCode);
        var port2 = diff.Json().GetProperty("entries").EnumerateArray()
            .Where(e => e.GetProperty("ports").GetProperty("first").GetInt32() == 2).ToList();
        Assert.Equal(2, port2.Count);
        Assert.All(port2, e => Assert.Equal("de-assigned", e.GetProperty("changes")[0].GetProperty("kind").GetString()));

        var ports = await CliRun.RunAsync("--editions", Editions, "ports", "--range", "770-777", "--transport", "tcp");
        Assert.Equal(0, ports.ExitCode);
        var names = ports.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
        Assert.Equal(["cadlock", "rtip", "cycleserv2", "submit", "rpasswd", "entomb", "wpages", "multiling-http"], names);

        var statuses = await CliRun.RunAsync("--editions", Editions, "ports", "--range", "0-20", "--status", "de-assigned", "--as-of", "2026-08-17", "--json");
        Assert.Equal(0, statuses.ExitCode);
        var rows = statuses.Json().EnumerateArray().Select(r => (r.GetProperty("port").GetInt32(), r.GetProperty("transport").GetString())).ToList();
        Assert.Contains((2, "tcp"), rows);
        Assert.Contains((15, "tcp"), rows);
        Assert.DoesNotContain((22, "tcp"), rows);
    }

    [Fact]
    public async Task Edition_inspect_reports_counts_per_transport_and_status_and_the_warnings_with_lines()
    {
        var run = await CliRun.RunAsync("edition", "inspect", RegistryData.PathOf("port-numbers_2004-01-08.txt"), "--json");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json();
        Assert.Equal("iana-text", json.GetProperty("edition").GetProperty("format").GetString());
        Assert.Equal("2004-01-08", json.GetProperty("edition").GetProperty("effectiveDate").GetString());
        var tcp = json.GetProperty("counts").EnumerateArray().Where(c => c.GetProperty("transport").GetString() == "tcp").Sum(c => c.GetProperty("records").GetInt32());
        Assert.Equal(RegistryData.Edition("port-numbers_2004-01-08.txt").Records.Count(r => r.Transport == Registry.Model.TransportProtocol.Tcp), tcp);
        Assert.Contains(json.GetProperty("warnings").EnumerateArray(), w => w.GetProperty("line").GetInt32() == 9379);

        var table = await CliRun.RunAsync("edition", "inspect", RegistryData.PathOf("rfc1060.txt"));
        Assert.Matches(@"tcp\s+conventional\s+131", table.Output);
    }

    [Theory]
    [InlineData("port 70000", "port must be a number 0-65535")]
    [InlineData("port 22 --transport xtp", "transport must be tcp, udp, sctp or dccp")]
    [InlineData("port 22 --as-of 2020-13-01", "--as-of must be a date yyyy-MM-dd")]
    [InlineData("ports --range 100-50", "--range must be a port or range")]
    [InlineData("ports --status maybe", "status must be assigned")]
    [InlineData("diff rfc1340 rfc9999", "unknown edition \"rfc9999\"")]
    public async Task Bad_requests_exit_with_2_and_a_clear_message(string command, string message)
    {
        var run = await CliRun.RunAsync([.. Files("rfc1340.txt"), .. command.Split(' ')]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task A_malformed_edition_in_the_directory_fails_the_run_naming_file_and_line()
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-cli-");
        try
        {
            File.Copy(RegistryData.PathOf("rfc1340.txt"), Path.Combine(directory.FullName, "rfc1340.txt"));
            var bytes = RegistryData.Bytes("service-names-port-numbers_2013-02-18.xml");
            await File.WriteAllBytesAsync(Path.Combine(directory.FullName, "broken.xml"), bytes[..100_000]);

            var run = await CliRun.RunAsync("--editions", directory.FullName, "port", "771");

            Assert.Equal(1, run.ExitCode);
            Assert.Matches(@"error: .*broken\.xml:\d+: XML is not well-formed", run.Error);
            Assert.Equal("", run.Output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_editions_or_a_server_the_cli_says_what_to_pass()
    {
        var previous = Environment.GetEnvironmentVariable("PORTHISTORY_EDITIONS");
        var server = Environment.GetEnvironmentVariable("PORTHISTORY_SERVER");
        Environment.SetEnvironmentVariable("PORTHISTORY_EDITIONS", null);
        Environment.SetEnvironmentVariable("PORTHISTORY_SERVER", null);
        try
        {
            var run = await CliRun.RunAsync("port", "22");
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("--editions DIR", run.Error);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PORTHISTORY_EDITIONS", previous);
            Environment.SetEnvironmentVariable("PORTHISTORY_SERVER", server);
        }
    }
}
