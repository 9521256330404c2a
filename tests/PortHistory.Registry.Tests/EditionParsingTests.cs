using System.Text.RegularExpressions;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>Every real edition parses completely; expected figures come from PROVENANCE.md or from the raw files.</summary>
public sealed class EditionParsingTests
{
    [Theory]
    [InlineData("rfc0990.txt", EditionFileFormat.RfcAssignedNumbers, "1986-11-01", "rfc990")]
    [InlineData("rfc1010.txt", EditionFileFormat.RfcAssignedNumbers, "1987-05-01", "rfc1010")]
    [InlineData("rfc1060.txt", EditionFileFormat.RfcAssignedNumbers, "1990-03-01", "rfc1060")]
    [InlineData("rfc1340.txt", EditionFileFormat.RfcAssignedNumbers, "1992-07-01", "rfc1340")]
    [InlineData("rfc1700.txt", EditionFileFormat.RfcAssignedNumbers, "1994-10-01", "rfc1700")]
    [InlineData("port-numbers_2004-01-08.txt", EditionFileFormat.IanaPortNumbersText, "2004-01-08", "iana-text-2004-01-08")]
    [InlineData("port-numbers_2005-12-22.txt", EditionFileFormat.IanaPortNumbersText, "2005-12-22", "iana-text-2005-12-22")]
    [InlineData("port-numbers_2006-11-13.txt", EditionFileFormat.IanaPortNumbersText, "2006-11-13", "iana-text-2006-11-13")]
    [InlineData("port-numbers_2008-02-29.txt", EditionFileFormat.IanaPortNumbersText, "2008-02-29", "iana-text-2008-02-29")]
    [InlineData("service-names-port-numbers_2013-02-18.xml", EditionFileFormat.IanaXml, "2013-02-18", "iana-xml-2013-02-18")]
    [InlineData("service-names-port-numbers_2017-03-10.xml", EditionFileFormat.IanaXml, "2017-03-10", "iana-xml-2017-03-10")]
    [InlineData("service-names-port-numbers_2024-04-30.xml", EditionFileFormat.IanaXml, "2024-04-30", "iana-xml-2024-04-30")]
    [InlineData("service-names-port-numbers_2026-08-17.xml", EditionFileFormat.IanaXml, "2026-08-17", "iana-xml-2026-08-17")]
    [InlineData("service-names-port-numbers_2017-02-24.csv", EditionFileFormat.IanaCsv, "2017-02-24", "iana-csv-2017-02-24")]
    [InlineData("service-names-port-numbers_2024-04-30.csv", EditionFileFormat.IanaCsv, "2024-04-30", "iana-csv-2024-04-30")]
    [InlineData("service-names-port-numbers_2026-04-24.csv", EditionFileFormat.IanaCsv, "2026-04-24", "iana-csv-2026-04-24")]
    public void Every_real_edition_parses_with_its_format_date_and_identity(string file, EditionFileFormat format, string date, string id)
    {
        var edition = RegistryData.Edition(file);

        Assert.Equal(format, EditionReader.Detect(EditionContent.FromFile(RegistryData.PathOf(file))));
        Assert.Equal(format, edition.Format);
        Assert.Equal(DateOnly.Parse(date), edition.EffectiveDate);
        Assert.Equal(id, edition.Id);
        Assert.Equal(new FileInfo(RegistryData.PathOf(file)).Length, edition.Bytes);
        Assert.Equal(64, edition.Sha256.Length);
        Assert.NotEmpty(edition.Records);
    }

    [Theory]
    [InlineData("service-names-port-numbers_2013-02-18.xml", 13219)]
    [InlineData("service-names-port-numbers_2017-03-10.xml", 13955)]
    [InlineData("service-names-port-numbers_2024-04-30.xml", 14447)]
    [InlineData("service-names-port-numbers_2026-08-17.xml", 14533)]
    [InlineData("service-names-port-numbers_2017-02-24.csv", 13918)]
    [InlineData("service-names-port-numbers_2024-04-30.csv", 14447)]
    [InlineData("service-names-port-numbers_2026-04-24.csv", 14512)]
    public void Xml_and_csv_keep_every_record_that_provenance_counts(string file, int records)
    {
        var edition = RegistryData.Edition(file);

        Assert.Equal(records, edition.Records.Length);
        Assert.DoesNotContain(edition.Warnings, w => w.Reason.Contains("skipped", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("service-names-port-numbers_2013-02-18.xml", 5959, 5897, 59, 7, 1297)]
    [InlineData("service-names-port-numbers_2026-08-17.xml", 6606, 6356, 93, 11, 1467)]
    public void Xml_records_by_protocol_match_provenance(string file, int tcp, int udp, int sctp, int dccp, int none)
    {
        var byTransport = RegistryData.Edition(file).Records.GroupBy(r => r.Transport).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(tcp, byTransport[TransportProtocol.Tcp]);
        Assert.Equal(udp, byTransport[TransportProtocol.Udp]);
        Assert.Equal(sctp, byTransport[TransportProtocol.Sctp]);
        Assert.Equal(dccp, byTransport[TransportProtocol.Dccp]);
        Assert.Equal(none, byTransport[TransportProtocol.Unspecified]);
    }

    [Theory]
    [InlineData("port-numbers_2004-01-08.txt")]
    [InlineData("port-numbers_2005-12-22.txt")]
    [InlineData("port-numbers_2006-11-13.txt")]
    [InlineData("port-numbers_2008-02-29.txt")]
    [InlineData("rfc1060.txt")]
    [InlineData("rfc1340.txt")]
    [InlineData("rfc1700.txt")]
    public void Text_editions_keep_every_tcp_and_udp_line_of_the_file(string file)
    {
        // Counted straight from the raw lines, independently of the parser: "771/tcp", "6000-6063/tcp".
        var lines = File.ReadAllLines(RegistryData.PathOf(file), System.Text.Encoding.Latin1);
        int Count(string protocol) => lines.Count(l => Regex.IsMatch(l, $@"(^|\s)\d+(-\d+)?/{protocol}(\s|$)"));
        var edition = RegistryData.Edition(file);

        Assert.Equal(Count("tcp"), edition.Records.Count(r => r.Transport == TransportProtocol.Tcp));
        Assert.Equal(Count("udp"), edition.Records.Count(r => r.Transport == TransportProtocol.Udp));
    }

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

    [Fact]
    public void Text_contact_lines_belong_to_the_entries_directly_above_with_the_same_name_and_port()
    {
        var records = RegistryData.Edition("port-numbers_2004-01-08.txt").Records;

        var wpages = records.Where(r => r.ServiceName == "wpages").ToList();
        Assert.Equal(2, wpages.Count);
        Assert.All(wpages, r => Assert.Equal("Josyula R. Rao", Assert.Single(r.Contacts).Name));
        Assert.All(wpages, r => Assert.Equal("jrrao@watson.ibm.com", r.Contacts[0].Email));
        // rtip sits in the same block above but, as in IANA's own XML, gets no contact.
        Assert.All(records.Where(r => r.ServiceName == "rtip"), r => Assert.Empty(r.Contacts));
        Assert.Empty(records.First(r => r.ServiceName == "compressnet" && r.Ports == PortSpan.Single(2)).Contacts);
        Assert.Equal("Bernie Volz", records.First(r => r.ServiceName == "compressnet" && r.Ports == PortSpan.Single(3)).Contacts[0].Name);
    }

    [Fact]
    public void The_2008_text_edition_without_heading_uses_ampersand_addresses_that_are_stored_with_at()
    {
        var edition = RegistryData.Edition("port-numbers_2008-02-29.txt");

        Assert.StartsWith("(last updated 2008-02-29)", File.ReadLines(RegistryData.PathOf("port-numbers_2008-02-29.txt")).First());
        Assert.Equal("jrrao@watson.ibm.com", edition.Records.First(r => r.ServiceName == "wpages").Contacts[0].Email);
    }

    [Fact]
    public void The_2005_text_edition_with_crlf_and_an_english_date_is_read()
    {
        var bytes = RegistryData.Bytes("port-numbers_2005-12-22.txt");
        Assert.Contains("(last updated 22 December 2005)", System.Text.Encoding.Latin1.GetString(bytes));
        Assert.Equal((byte)'\r', bytes[Array.IndexOf(bytes, (byte)'\n') - 1]);

        var edition = RegistryData.Edition("port-numbers_2005-12-22.txt");
        Assert.Equal(new DateOnly(2005, 12, 22), edition.EffectiveDate);
        Assert.DoesNotContain(edition.Records, r => r.Description.Contains('\r') || (r.ServiceName?.Contains('\r') ?? false));
        Assert.Contains(edition.Warnings, w => w.Reason.Contains("Latin-1", StringComparison.Ordinal));
    }

    [Fact]
    public void Unparseable_entries_in_a_good_file_are_counted_warnings_with_their_line()
    {
        var edition = RegistryData.Edition("port-numbers_2004-01-08.txt");

        var typo = Assert.Single(edition.Warnings, w => w.Reason.Contains("\"tdp\"", StringComparison.Ordinal));
        Assert.Equal("paging-port     3771/tdp   RTP Paging Port", File.ReadLines(RegistryData.PathOf("port-numbers_2004-01-08.txt")).ElementAt(typo.Line - 1).Trim());
    }

    [Fact]
    public void Xml_resolves_people_notes_deassignment_aliases_and_replacements()
    {
        var records = RegistryData.Edition("service-names-port-numbers_2026-08-17.xml").Records;

        var wpages = records.Single(r => r.ServiceName == "wpages" && r.Transport == TransportProtocol.Udp);
        Assert.Equal(new RegistryPerson("Josyula_R_Rao", "Josyula R. Rao", "jrrao@watson.ibm.com"), Assert.Single(wpages.Contacts));
        var port2 = records.Single(r => r.Ports == PortSpan.Single(2) && r.Transport == TransportProtocol.Tcp);
        Assert.Equal(RecordStatus.DeAssigned, port2.Status);
        Assert.Equal("Reserved", port2.Description);
        Assert.Equal(new DeassignmentNote("2025-02-13", "compressnet"), port2.Deassignment);
        Assert.Contains("[Bernie_Volz]", port2.Notes[0]);
        var dbd = records.Single(r => r.ServiceName == "acmaint-dbd");
        Assert.Equal("acmaint_dbd", dbd.Replaces);
        Assert.Equal("", dbd.Description);
        Assert.Equal("acmaint-dbd", records.Single(r => r.ServiceName == "acmaint_dbd").AliasOf);
        var x11 = records.First(r => r.ServiceName == "x11" && r.Transport == TransportProtocol.Tcp);
        Assert.Equal(new PortSpan(6000, 6063), x11.Ports);
        Assert.Contains(records, r => r.Ports is null && r.ServiceName == "argus");
        Assert.Contains("Unauthorized use by some mail users (see [RFC4146] for details)", records.First(r => r.ServiceName == "finger").UnauthorizedUses);
    }

    [Fact]
    public void Csv_and_xml_of_the_same_day_give_the_same_records()
    {
        var xml = RegistryData.Edition("service-names-port-numbers_2024-04-30.xml").Records;
        var csv = RegistryData.Edition("service-names-port-numbers_2024-04-30.csv").Records;

        static string Key(EditionRecord r) =>
            $"{r.ServiceName}|{r.Ports}|{r.Transport}|{r.Status}|{r.Description}|{string.Join(",", r.Contacts.Select(p => p.Key))}|{r.Registered}|{r.Modified}";
        Assert.Equal(xml.Select(Key).Order(), csv.Select(Key).Order());
    }

    [Fact]
    public void Csv_quoted_multiline_fields_keep_their_line_and_both_unauthorized_headers_are_accepted()
    {
        var old = RegistryData.Edition("service-names-port-numbers_2017-02-24.csv");
        Assert.StartsWith("Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration Date,Modification Date,Reference,Service Code,Known Unauthorized Uses",
            File.ReadLines(RegistryData.PathOf("service-names-port-numbers_2017-02-24.csv")).First());
        Assert.NotEmpty(old.Records);

        var edition = RegistryData.Edition("service-names-port-numbers_2026-04-24.csv");
        var alias = edition.Records.Single(r => r.ServiceName == "acmaint_dbd");
        Assert.Equal("acmaint-dbd", alias.AliasOf);
        Assert.StartsWith("acmaint_dbd,774,udp", File.ReadLines(RegistryData.PathOf("service-names-port-numbers_2026-04-24.csv")).ElementAt(alias.Line - 1));
        var next = edition.Records[edition.Records.IndexOf(alias) + 1];
        Assert.StartsWith($"{next.ServiceName},{next.Ports}", File.ReadLines(RegistryData.PathOf("service-names-port-numbers_2026-04-24.csv")).ElementAt(next.Line - 1));
    }

    [Fact]
    public void Csv_date_comes_from_an_override_else_the_file_name_else_the_newest_date_in_it()
    {
        var content = EditionContent.FromFile(RegistryData.PathOf("service-names-port-numbers_2026-04-24.csv"));
        var renamed = new EditionContent(content.Bytes, "service-names-port-numbers.csv");

        Assert.Equal(EditionDateSource.FileName, EditionReader.Read(content).DateSource);
        var inferred = EditionReader.Read(renamed);
        Assert.Equal(EditionDateSource.Inferred, inferred.DateSource);
        Assert.Equal(inferred.Records.Max(r => new[] { r.Registered, r.Modified }.Max(StringComparer.Ordinal)), inferred.EffectiveDate.ToString("yyyy-MM-dd"));
        var given = EditionReader.Read(renamed, new EditionReadOptions { EffectiveDate = new DateOnly(2026, 4, 24) });
        Assert.Equal((new DateOnly(2026, 4, 24), EditionDateSource.Override), (given.EffectiveDate, given.DateSource));
    }

    [Fact]
    public void Local_services_and_nmap_files_are_conventional_editions()
    {
        const string services = "# /etc/services\nssh\t\t22/tcp\n# comment\nsunrpc\t\t111/tcp\t\tportmapper rpcbind\t# RPC 4.0\nbroken line\n";
        const string nmap = "# Fields in this file are: Service name, portnum/protocol, open-frequency, optional comments\nssh\t22/tcp\t0.182286\t# Secure Shell Login\nunknown\t776/udp\t0.000500\n";

        var local = EditionReader.Read(new EditionContent(System.Text.Encoding.UTF8.GetBytes(services), "services"),
            new EditionReadOptions { EffectiveDate = new DateOnly(2026, 1, 1) });
        var scan = EditionReader.Read(new EditionContent(System.Text.Encoding.UTF8.GetBytes(nmap), "nmap-services"),
            new EditionReadOptions { EffectiveDate = new DateOnly(2026, 1, 1) });

        Assert.Equal(EditionFileFormat.EtcServices, local.Format);
        Assert.True(local.IsLocal);
        Assert.All(local.Records, r => Assert.Equal(RecordStatus.Conventional, r.Status));
        Assert.Equal(["portmapper", "rpcbind"], local.Records.Single(r => r.ServiceName == "sunrpc").Aliases.ToArray());
        Assert.Equal("RPC 4.0", local.Records.Single(r => r.ServiceName == "sunrpc").Description);
        Assert.Equal(5, Assert.Single(local.Warnings).Line);
        Assert.Equal(EditionFileFormat.NmapServices, scan.Format);
        Assert.Equal(0.182286, scan.Records.Single(r => r.ServiceName == "ssh").OpenFrequency);
    }
}
