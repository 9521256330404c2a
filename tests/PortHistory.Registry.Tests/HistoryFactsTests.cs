using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Tests;

/// <summary>The facts table of PROVENANCE.md (ports 770-777) and the de-assignment of port 2, through the history API.</summary>
public sealed class HistoryFactsTests(HistoryFixture fixture) : IClassFixture<HistoryFixture>
{
    private readonly RegistryHistory _history = fixture.History;

    private PortSnapshot At(int port, TransportProtocol transport, string date) =>
        _history.AsOf(port, transport, DateOnly.Parse(date)) ?? throw new InvalidOperationException("no edition in effect");

    [Fact]
    public void Port_771_tcp_was_conventional_rtip_in_1991_and_assigned_rtip_from_rfc1340()
    {
        var in1991 = At(771, TransportProtocol.Tcp, "1991-01-01");
        Assert.Equal("rfc1060", in1991.Edition.Id);
        Assert.Equal(("rtip", RecordStatus.Conventional, "UNIX PORTS"), (in1991.Primary!.ServiceName, in1991.Primary.Status, in1991.Primary.Section));

        var in1993 = At(771, TransportProtocol.Tcp, "1993-01-01");
        Assert.Equal("rfc1340", in1993.Edition.Id);
        Assert.Equal(("rtip", RecordStatus.Assigned), (in1993.Primary!.ServiceName, in1993.Primary.Status));

        Assert.Empty(At(771, TransportProtocol.Tcp, "1989-01-01").Records);
        Assert.Null(_history.AsOf(771, TransportProtocol.Tcp, new DateOnly(1980, 1, 1)));
        Assert.Empty(At(771, TransportProtocol.Udp, "1991-01-01").Records);
        Assert.Equal("rtip", At(771, TransportProtocol.Udp, "1993-01-01").Primary!.ServiceName);
    }

    [Fact]
    public void Port_771_has_been_rtip_with_no_description_from_rfc1340_through_2026()
    {
        foreach (var transport in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
        {
            var current = _history.Timeline(771, transport).Versions[^1];
            Assert.Equal(("rfc1340", "iana-xml-2026-08-17"), (current.From.Id, current.Through.Id));
            Assert.Equal(("rtip", ""), (current.Primary!.ServiceName, current.Primary.Description));
        }
    }

    [Fact]
    public void Port_776_udp_is_wpages_from_rfc1340_through_2026_with_its_contact_from_2004()
    {
        var timeline = _history.Timeline(776, TransportProtocol.Udp);
        var assigned = timeline.Versions.Where(v => v.Primary?.Status == RecordStatus.Assigned).ToList();

        Assert.Equal("rfc1340", assigned[0].From.Id);
        Assert.Equal("iana-xml-2026-08-17", assigned[^1].Through.Id);
        Assert.All(assigned, v => Assert.Equal("wpages", v.Primary!.ServiceName));
        Assert.Equal(timeline.Versions[^1], assigned[^1]);
        Assert.Empty(At(776, TransportProtocol.Udp, "1993-01-01").Primary!.Contacts);
        foreach (var date in new[] { "2004-01-08", "2008-03-01", "2013-02-18", "2024-04-30", "2026-08-17" })
        {
            var primary = At(776, TransportProtocol.Udp, date).Primary!;
            Assert.Equal("wpages", primary.ServiceName);
            Assert.Contains(primary.Contacts, p => p.DisplayName == "Josyula R. Rao");
        }

        var contactChange = Assert.Single(timeline.Versions, v => v.Changes.Any(c => c.Kind == RecordChangeKind.ContactChanged));
        Assert.Equal("iana-text-2004-01-08", contactChange.From.Id);
    }

    [Theory]
    [InlineData(770, "cadlock", "cadlock")]
    [InlineData(771, "rtip", "rtip")]
    [InlineData(772, "cycleserv2", "cycleserv2")]
    [InlineData(773, "submit", "notify")]
    [InlineData(774, "rpasswd", "acmaint_dbd")]
    [InlineData(775, "entomb", "acmaint_transd")]
    [InlineData(776, "wpages", "wpages")]
    public void Ports_770_to_776_hold_the_same_names_from_rfc1340_through_2026(int port, string tcp, string udp)
    {
        foreach (var date in new[] { "1992-07-01", "1994-10-01", "2004-01-08", "2008-02-29", "2013-02-18", "2017-03-10", "2024-04-30", "2026-08-17" })
        {
            var onTcp = At(port, TransportProtocol.Tcp, date).Primary!;
            var onUdp = At(port, TransportProtocol.Udp, date).Primary!;
            Assert.True(onTcp.Names(tcp), $"{port}/tcp on {date} is {onTcp.ServiceName}");
            Assert.True(onUdp.Names(udp), $"{port}/udp on {date} is {onUdp.ServiceName}");
            Assert.Equal(RecordStatus.Assigned, onTcp.Status);
        }
    }

    [Fact]
    public void Rfc1060_lists_770_udp_and_772_tcp_as_unix_ports_only()
    {
        Assert.Equal(("cadlock", RecordStatus.Conventional), (At(770, TransportProtocol.Udp, "1991-01-01").Primary!.ServiceName, At(770, TransportProtocol.Udp, "1991-01-01").Primary!.Status));
        Assert.Empty(At(770, TransportProtocol.Tcp, "1991-01-01").Records);
        Assert.Equal(RecordStatus.Conventional, At(772, TransportProtocol.Tcp, "1991-01-01").Primary!.Status);
        Assert.Empty(At(772, TransportProtocol.Udp, "1991-01-01").Records);
    }

    [Fact]
    public void Port_777_is_multiling_http_from_the_text_registry_on()
    {
        Assert.Empty(At(777, TransportProtocol.Tcp, "1995-01-01").Records);
        var in2004 = At(777, TransportProtocol.Tcp, "2004-01-08").Primary!;
        Assert.Equal(("multiling-http", "Multiling HTTP"), (in2004.ServiceName, in2004.Description));
        Assert.Equal("multiling-http", At(777, TransportProtocol.Udp, "2026-08-17").Primary!.ServiceName);
    }

    [Fact]
    public void Port_774_udp_shows_the_2013_rename_to_the_well_formed_name_with_the_old_one_as_alias()
    {
        var current = _history.Timeline(774, TransportProtocol.Udp).Versions[^1];

        Assert.Equal("acmaint-dbd", current.Primary!.ServiceName);
        Assert.Contains("acmaint_dbd", current.Primary.Aliases);
        var rename = Assert.Single(current.Changes);
        Assert.Equal((RecordChangeKind.Renamed, "acmaint_dbd", "acmaint-dbd"), (rename.Kind, rename.Before, rename.After));
        var link = Assert.Single(_history.RenameChain("acmaint_dbd"));
        Assert.Equal(("acmaint_dbd", "acmaint-dbd", PortSpan.Single(774), TransportProtocol.Udp), (link.From, link.To, link.Ports, link.Transport));
        Assert.Equal(link, Assert.Single(_history.RenameChain("ACMAINT-DBD")));
    }

    [Fact]
    public void Port_2_is_reserved_after_its_2025_deassignment_in_the_2026_edition()
    {
        var last = At(2, TransportProtocol.Tcp, "2026-08-17");
        Assert.Equal("iana-xml-2026-08-17", last.Edition.Id);
        Assert.Equal(RecordStatus.DeAssigned, last.Primary!.Status);
        Assert.Equal("Reserved", last.Primary.Description);
        Assert.Equal(new DeassignmentNote("2025-02-13", "compressnet"), last.Primary.Deassignment);

        var timeline = _history.Timeline(2, TransportProtocol.Tcp);
        var deassigned = timeline.Versions[^1];
        var change = Assert.Single(deassigned.Changes);
        Assert.Equal(RecordChangeKind.DeAssigned, change.Kind);
        Assert.Equal("compressnet", timeline.Versions[^2].Primary!.ServiceName);
        Assert.Equal("iana-csv-2026-04-24", deassigned.From.Id);
    }
}
