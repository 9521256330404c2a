using System.Globalization;
using System.Text;
using CsCheck;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>
/// Local service tables beside the registry: the installed Debian files read as local editions, what they say about a
/// port is answered next to the registry's records, and they never enter timelines or pick the edition in effect.
/// </summary>
public sealed class LocalTableTests(HistoryFixture fixture) : IClassFixture<HistoryFixture>
{
    [InstalledFileFact(LocalServiceTables.NmapServices, LocalServiceTables.NmapServicesPackage)]
    public void Installed_nmap_services_says_wpages_on_776_with_the_open_frequency_of_its_line()
    {
        var history = RegistryHistory.Build([EditionReader.ReadFile(LocalServiceTables.NmapServices)]);

        Assert.Empty(history.Editions);
        Assert.Equal(EditionFileFormat.NmapServices, Assert.Single(history.LocalEditions).Format);
        var entries = history.LocalEntries(776);
        foreach (var transport in new[] { "tcp", "udp" })
        {
            var line = LocalServiceTables.LineFor(LocalServiceTables.NmapServices, "wpages", 776, transport);
            Assert.NotNull(line);
            var entry = Assert.Single(entries, e => e.Transport.ToText() == transport);
            Assert.Equal("wpages", entry.ServiceName);
            Assert.Equal(double.Parse(line[2], CultureInfo.InvariantCulture), entry.OpenFrequency);
            Assert.Equal(LocalServiceTables.NmapServices, entry.Source);
            Assert.Equal("nmap-services", entry.TableName);
        }

        var udpOnly = history.LocalEntries(776, TransportProtocol.Udp);
        Assert.All(udpOnly, e => Assert.Equal(TransportProtocol.Udp, e.Transport));
        Assert.Equal(entries.Count(e => e.Transport == TransportProtocol.Udp), udpOnly.Count);
    }

    [InstalledFileFact(LocalServiceTables.EtcServices, LocalServiceTables.EtcServicesPackage)]
    public void Installed_etc_services_says_ssh_on_22_tcp_with_its_comment_and_no_frequency()
    {
        var line = LocalServiceTables.LineFor(LocalServiceTables.EtcServices, "ssh", 22, "tcp");
        Assert.NotNull(line);
        var history = RegistryHistory.Build([EditionReader.ReadFile(LocalServiceTables.EtcServices)]);

        var entry = Assert.Single(history.LocalEntries(22, TransportProtocol.Tcp));
        Assert.Equal("ssh", entry.ServiceName);
        Assert.Null(entry.OpenFrequency);
        Assert.Equal(line.Skip(2), entry.Aliases);
        Assert.Equal("/etc/services", entry.TableName);
        Assert.Equal(EditionFileFormat.EtcServices, entry.Edition.Format);
        var comment = File.ReadLines(LocalServiceTables.EtcServices).First(l => l.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries) is ["ssh", "22/tcp", ..]);
        Assert.Equal(comment.Contains('#') ? comment[(comment.IndexOf('#') + 1)..].Trim() : null, entry.Comment);
    }

    [InstalledFileFact(LocalServiceTables.NmapServices, LocalServiceTables.NmapServicesPackage)]
    public void Beside_the_registry_a_local_table_answers_for_the_port_but_changes_no_timeline_and_no_edition_in_effect()
    {
        var local = EditionReader.ReadFile(LocalServiceTables.NmapServices);
        var combined = RegistryHistory.Build([.. RegistryData.AllEditions(), local]);

        Assert.Equal(fixture.History.Editions.Select(e => e.Id), combined.Editions.Select(e => e.Id));
        Assert.Equal(local.Id, Assert.Single(combined.LocalEditions).Id);
        foreach (var transport in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
        {
            Assert.Equal(
                fixture.History.Timeline(776, transport).Versions.Select(v => (v.From.Id, v.Through.Id, RegistryHistory.StateKey(v.Records))),
                combined.Timeline(776, transport).Versions.Select(v => (v.From.Id, v.Through.Id, RegistryHistory.StateKey(v.Records))));
        }

        // The newest registry edition stays in effect even on a date after the local table's.
        Assert.Equal(combined.Editions.Length - 1, combined.EditionIndexAsOf(local.EffectiveDate.AddYears(100)));
        Assert.Contains(combined.LocalEntries(776), e => e.ServiceName == "wpages" && e.Edition.Id == local.Id);
        Assert.Empty(fixture.History.LocalEntries(776));
    }

    [Fact]
    public void Every_generated_nmap_line_is_answered_for_its_port_and_transport_and_for_no_other_port()
    {
        var line = Gen.Select(
            Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"], 1, 12],
            Gen.Int[0, PortSpan.MaxPort],
            Gen.Int[0, 2].Select(i => new[] { "tcp", "udp", "sctp" }[i]),
            Gen.Int[0, 1_000_000]);
        line.Array[1, 40].Sample(lines =>
        {
            var text = new StringBuilder("# generated nmap-services\n");
            foreach (var (name, port, transport, millionths) in lines)
            {
                text.Append(CultureInfo.InvariantCulture, $"{name}\t{port}/{transport}\t{millionths / 1_000_000.0:0.000000}\t# {name} comment\n");
            }

            var edition = EditionReader.Read(new EditionContent(Encoding.UTF8.GetBytes(text.ToString()), "nmap-services"),
                new EditionReadOptions { Format = EditionFileFormat.NmapServices, EffectiveDate = new DateOnly(2026, 1, 1) });
            var history = RegistryHistory.Build([edition]);
            foreach (var port in lines.Select(l => l.Item2).Distinct())
            {
                var expected = lines.Where(l => l.Item2 == port).Select(l => (l.Item1, l.Item3, l.Item4 / 1_000_000.0, $"{l.Item1} comment"));
                var answered = history.LocalEntries(port).Select(e => (e.ServiceName, e.Transport.ToText(), e.OpenFrequency!.Value, e.Comment!));
                Assert.Equal(expected.OrderBy(x => x), answered.OrderBy(x => x));
            }

            var unused = Enumerable.Range(0, 4).Select(i => lines[0].Item2 + i + 1).FirstOrDefault(p => p <= PortSpan.MaxPort && lines.All(l => l.Item2 != p), -1);
            if (unused >= 0) Assert.Empty(history.LocalEntries(unused));
        }, iter: 200);
    }
}
