using System.Globalization;
using PortHistory.Testing;

namespace PortHistory.Cli.Tests;

/// <summary>
/// `port` with the local service tables Debian installs: a table alone answers with what it says, and beside registry
/// editions it is shown after the registry's records without taking the place of the edition in effect.
/// </summary>
public sealed class LocalTableVerbTests
{
    [InstalledFileFact(LocalServiceTables.NmapServices, LocalServiceTables.NmapServicesPackage)]
    public async Task Port_from_nmap_services_alone_answers_wpages_with_its_open_frequency()
    {
        var run = await CliRun.RunAsync("--edition", LocalServiceTables.NmapServices, "port", "776");

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("no edition was in effect", run.Output);
        Assert.Contains("local tables only", run.Output);
        var tcp = LocalServiceTables.LineFor(LocalServiceTables.NmapServices, "wpages", 776, "tcp")!;
        Assert.Matches($@"(?m)^local: nmap-services says wpages on 776/tcp \(open frequency {Frequency(tcp[2])}\)", run.Output);

        var json = (await CliRun.RunAsync("--edition", LocalServiceTables.NmapServices, "port", "776", "--transport", "udp", "--json")).Json();
        Assert.False(json.TryGetProperty("edition", out _));
        var entry = Assert.Single(json.GetProperty("local").EnumerateArray());
        var udp = LocalServiceTables.LineFor(LocalServiceTables.NmapServices, "wpages", 776, "udp")!;
        Assert.Equal("wpages", entry.GetProperty("serviceName").GetString());
        Assert.Equal("udp", entry.GetProperty("transport").GetString());
        Assert.Equal(double.Parse(udp[2], CultureInfo.InvariantCulture), entry.GetProperty("openFrequency").GetDouble());
        Assert.Equal(LocalServiceTables.NmapServices, entry.GetProperty("source").GetString());
        Assert.Equal("nmap-services", entry.GetProperty("edition").GetProperty("format").GetString());
    }

    [InstalledFileFact(LocalServiceTables.NmapServices, LocalServiceTables.NmapServicesPackage)]
    public async Task Port_beside_registry_editions_shows_the_registry_records_and_then_what_nmap_services_says()
    {
        var registryOnly = await CliRun.RunAsync("--editions", RegistryData.Directory, "port", "776");
        var both = await CliRun.RunAsync("--editions", RegistryData.Directory, "--edition", LocalServiceTables.NmapServices, "port", "776");

        Assert.Equal(0, both.ExitCode);
        // The registry part is word for word what the registry alone answers; the local lines follow it.
        Assert.StartsWith(registryOnly.Output.TrimEnd(), both.Output);
        Assert.Matches(@"(?m)^tcp\s+wpages\s+assigned", both.Output);
        var local = both.Output[registryOnly.Output.TrimEnd().Length..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, local.Length);
        Assert.All(local, l => Assert.StartsWith("local: nmap-services says wpages on 776/", l));

        // Out of the timelines: the same versions with or without the local table.
        var timeline = await CliRun.RunAsync("--editions", RegistryData.Directory, "timeline", "776", "--json");
        var timelineWithLocal = await CliRun.RunAsync("--editions", RegistryData.Directory, "--edition", LocalServiceTables.NmapServices, "timeline", "776", "--json");
        Assert.Equal(timeline.Output, timelineWithLocal.Output);
    }

    [InstalledFileFact(LocalServiceTables.EtcServices, LocalServiceTables.EtcServicesPackage)]
    public async Task Port_22_json_beside_registry_editions_carries_the_newest_registry_edition_and_a_local_etc_services_entry()
    {
        var registryOnly = (await CliRun.RunAsync("--editions", RegistryData.Directory, "port", "22", "--json")).Json();
        var run = await CliRun.RunAsync("--editions", RegistryData.Directory, "--edition", LocalServiceTables.EtcServices, "port", "22", "--json");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json();
        Assert.Equal(registryOnly.GetProperty("edition").GetProperty("id").GetString(), json.GetProperty("edition").GetProperty("id").GetString());
        Assert.Equal(registryOnly.GetProperty("transports").GetRawText(), json.GetProperty("transports").GetRawText());
        var line = LocalServiceTables.LineFor(LocalServiceTables.EtcServices, "ssh", 22, "tcp")!;
        var entry = Assert.Single(json.GetProperty("local").EnumerateArray(), e => e.GetProperty("transport").GetString() == "tcp");
        Assert.Equal("ssh", entry.GetProperty("serviceName").GetString());
        Assert.Equal("services", entry.GetProperty("edition").GetProperty("format").GetString());
        Assert.False(entry.TryGetProperty("openFrequency", out _));
        Assert.Equal(line.Skip(2), entry.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.False(registryOnly.TryGetProperty("local", out var none) && none.GetArrayLength() > 0);
    }

    /// <summary>The frequency as the table renders it, as a pattern.</summary>
    private static string Frequency(string field) =>
        System.Text.RegularExpressions.Regex.Escape(double.Parse(field, CultureInfo.InvariantCulture).ToString("0.0#####", CultureInfo.InvariantCulture));
}
