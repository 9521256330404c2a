using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Tests;

/// <summary>The history's cross-port questions over the real editions: a service's holdings, a listing on a date, a diff of two editions.</summary>
public sealed class HistoryQueryTests(HistoryFixture fixture) : IClassFixture<HistoryFixture>
{
    private readonly RegistryHistory _history = fixture.History;

    [Fact]
    public void The_diff_from_2024_04_30_to_2026_08_17_reports_port_2_as_deassigned()
    {
        var diff = RegistryHistory.Diff(_history.FindEdition("iana-xml-2024-04-30")!, _history.FindEdition("iana-xml-2026-08-17")!, new PortSpan(0, 1023));

        foreach (var transport in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
        {
            var entry = Assert.Single(diff.Entries, e => e.Transport == transport && e.Ports!.Value.Contains(2));
            Assert.Equal(EditionDiffKind.Changed, entry.Kind);
            Assert.Equal(RecordChangeKind.DeAssigned, entry.Changes[0].Kind);
            Assert.Equal("compressnet", entry.Before[0].ServiceName);
        }

        Assert.DoesNotContain(diff.Entries, e => e.Ports!.Value.Overlaps(new PortSpan(770, 777)));
        Assert.All(diff.Entries, e => Assert.True(e.Ports!.Value.Last <= 1023));
    }

    [Fact]
    public void FindService_wpages_returns_776_tcp_and_udp_assigned_from_1992_through_2026()
    {
        var assigned = _history.FindService("WPAGES").Where(h => h.Status == RecordStatus.Assigned).ToList();

        Assert.Equal([TransportProtocol.Tcp, TransportProtocol.Udp], assigned.Select(h => h.Transport).Order());
        Assert.All(assigned, h => Assert.Equal((PortSpan.Single(776), "rfc1340", "iana-xml-2026-08-17"), (h.Ports!.Value, h.From.Id, h.Through.Id)));
        Assert.Contains(_history.FindService("wpages"), h => h.Status == RecordStatus.Conventional && h.From.Id == "rfc1060");
    }

    [Fact]
    public void FindService_matches_aliases_ranges_and_name_only_registrations()
    {
        Assert.Contains(_history.FindService("acmaint_dbd"), h => h.AsAlias && h.From.Id == "iana-xml-2013-02-18" && h.Ports == PortSpan.Single(774));
        Assert.Contains(_history.FindService("x11"), h => h.Ports == new PortSpan(6000, 6063) && h.Transport == TransportProtocol.Tcp && h.Through.Id == "iana-xml-2026-08-17");
        Assert.Contains(_history.FindService("argus"), h => h.Ports is null);
        Assert.Empty(_history.FindService("no-such-service"));
    }

    [Fact]
    public void ListPorts_gives_every_port_and_what_held_it_on_a_date()
    {
        var tcp = _history.ListPorts(new PortSpan(770, 777), transport: TransportProtocol.Tcp).ToList();
        Assert.Equal(["cadlock", "rtip", "cycleserv2", "submit", "rpasswd", "entomb", "wpages", "multiling-http"], tcp.Select(r => r.Primary.ServiceName));

        var old = _history.ListPorts(new PortSpan(770, 777), new DateOnly(1991, 1, 1)).ToList();
        Assert.All(old, r => Assert.Equal(RecordStatus.Conventional, r.Primary.Status));
        Assert.Contains(old, r => (r.Port, r.Transport) == (771, TransportProtocol.Tcp));

        var deassigned = _history.ListPorts(new PortSpan(0, 20), status: RecordStatus.DeAssigned).Select(r => (r.Port, r.Transport)).ToList();
        Assert.Contains((2, TransportProtocol.Tcp), deassigned);
        Assert.Contains((15, TransportProtocol.Tcp), deassigned);
        Assert.DoesNotContain((15, TransportProtocol.Udp), deassigned);
    }
}
