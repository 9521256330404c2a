using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>The Assigned Numbers RFCs: tab expansion, UNIX PORTS, page breaks, references; expected figures from the raw files.</summary>
public sealed class RfcEditionTests
{
    [Fact]
    public void Rfc1340_is_read_after_tab_expansion()
    {
        var raw = File.ReadAllText(RegistryData.PathOf("rfc1340.txt"));
        Assert.Contains("WELL\tKNOWN", raw);

        var rtip = RegistryData.Edition("rfc1340.txt").Records.Single(r => r.Ports == PortSpan.Single(771) && r.Transport == TransportProtocol.Tcp);
        Assert.Equal("rtip", rtip.ServiceName);
        Assert.Equal("WELL KNOWN PORT NUMBERS", rtip.Section);
        Assert.Equal(RecordStatus.Assigned, rtip.Status);
    }

    [Fact]
    public void Rfc1060_unix_ports_are_conventional_use_and_its_main_table_has_no_protocol()
    {
        var records = RegistryData.Edition("rfc1060.txt").Records;

        var rtip = Assert.Single(records, r => r.ServiceName == "rtip");
        Assert.Equal(RecordStatus.Conventional, rtip.Status);
        Assert.Equal("UNIX PORTS", rtip.Section);
        var ftp = Assert.Single(records, r => r.ServiceName == "FTP");
        Assert.Equal(TransportProtocol.Unspecified, ftp.Transport);
        Assert.Equal(RecordStatus.Assigned, ftp.Status);
        Assert.Equal("File Transfer [Control]", ftp.Description);
    }

    [Fact]
    public void Rfc_tables_continue_across_page_breaks_and_wrapped_descriptions_join()
    {
        var records = RegistryData.Edition("rfc1060.txt").Records;

        // 43 ends page 9 and 44 starts page 10: both are there, nothing of the page furniture is.
        Assert.Contains(records, r => r.Ports == PortSpan.Single(43) && r.ServiceName == "NICNAME");
        Assert.Contains(records, r => r.Ports == PortSpan.Single(44) && r.ServiceName == "MPM-FLAGS");
        Assert.DoesNotContain(records, r => r.Description.Contains("[Page", StringComparison.Ordinal) || r.Description.Contains("RFC 1060", StringComparison.Ordinal));
        var exec = Assert.Single(records, r => r.ServiceName == "exec");
        Assert.Equal("remote process execution; authentication performed using passwords and UNIX loppgin names", exec.Description);
    }

    [Fact]
    public void Rfc_reference_initials_resolve_through_the_people_list()
    {
        var tcpmux = RegistryData.Edition("rfc1060.txt").Records.Single(r => r.ServiceName == "TCPMUX");

        var person = Assert.Single(tcpmux.Contacts);
        Assert.Equal("Mark Lottor", person.Name);
        Assert.Equal("MKL@NIC.DDN.MIL", person.Email);
    }

    [Fact]
    public void Rfc990_ranges_and_glued_references_are_read()
    {
        var records = RegistryData.Edition("rfc0990.txt").Records;

        var unassigned = Assert.Single(records, r => r.Ports == new PortSpan(133, 159));
        Assert.Equal(RecordStatus.Unassigned, unassigned.Status);
        var erpc = Assert.Single(records, r => r.ServiceName == "ERPC");
        Assert.Equal("HYDRA Expedited Remote Procedure Call", erpc.Description);
        Assert.Contains("[128]", erpc.References);
    }
}
