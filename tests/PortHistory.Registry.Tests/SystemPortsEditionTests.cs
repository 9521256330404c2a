using PortHistory.Registry.Formats;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>
/// The System Ports of a real IANA file (<see cref="RegistryData.SystemPortsOf"/>), which the tests of following, git
/// history, HTTP/JSON and the page import instead of the whole file: read by the same parser, it holds exactly the
/// whole file's records of ports up to 1023 and those without a number, in the same edition.
/// </summary>
public sealed class SystemPortsEditionTests
{
    [Theory]
    [InlineData("service-names-port-numbers_2024-04-30.xml")]
    [InlineData("service-names-port-numbers_2026-08-17.xml")]
    [InlineData("service-names-port-numbers_2024-04-30.csv")]
    [InlineData("service-names-port-numbers_2026-04-24.csv")]
    public void Holds_every_record_of_a_system_port_and_no_other(string file)
    {
        var whole = RegistryData.Edition(file);
        var trimmed = EditionReader.Read(new EditionContent(RegistryData.SystemPortsOf(file), file));

        var expected = whole.Records.Where(r => r.Ports is not { } ports || ports.First <= RegistryData.LastSystemPort).Select(Key).ToList();
        Assert.Equal(expected, trimmed.Records.Select(Key));
        Assert.Equal((whole.Id, whole.EffectiveDate), (trimmed.Id, trimmed.EffectiveDate));
        Assert.True(trimmed.Warnings.Length <= whole.Warnings.Length, string.Join("\n", trimmed.Warnings));
        Assert.True(trimmed.Records.Length * 5 < whole.Records.Length, $"{trimmed.Records.Length} of {whole.Records.Length} records kept");
    }

    [Theory]
    [InlineData("service-names-port-numbers_2026-08-17.xml")]
    [InlineData("service-names-port-numbers_2026-04-24.csv")]
    public void A_window_keeps_every_record_whose_range_touches_it_and_no_other(string file)
    {
        // As the sightings servers' edition is cut: a record is kept whole when any of its ports is in the window.
        static bool Touches(int first, int last) => first <= 32100 && last >= 30000;
        var whole = RegistryData.Edition(file);
        var cut = EditionReader.Read(new EditionContent(RegistryData.PortsOf(file, Touches), file));

        var expected = whole.Records.Where(r => r.Ports is not { } ports || Touches(ports.First, ports.Last)).Select(Key).ToList();
        Assert.Equal(expected, cut.Records.Select(Key));
        // A range that crosses the window's edge (an unassigned one, in these files) is kept whole.
        Assert.Contains(cut.Records, r => r.Ports is { } ports && (ports.First < 30000 || ports.Last > 32100));
    }

    private static string Key(Model.EditionRecord record) =>
        $"{record.ServiceName}|{record.Ports}|{record.Transport}|{record.Status}|{record.Description}|{string.Join(';', record.Contacts.Select(c => c.Name))}";
}
