using System.Text.RegularExpressions;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>Every real edition parses completely, with its format, date and identity; expected figures come from PROVENANCE.md or from the raw files.</summary>
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
    public void Unparseable_entries_in_a_good_file_are_counted_warnings_with_their_line()
    {
        var edition = RegistryData.Edition("port-numbers_2004-01-08.txt");

        var typo = Assert.Single(edition.Warnings, w => w.Reason.Contains("\"tdp\"", StringComparison.Ordinal));
        Assert.Equal("paging-port     3771/tdp   RTP Paging Port", File.ReadLines(RegistryData.PathOf("port-numbers_2004-01-08.txt")).ElementAt(typo.Line - 1).Trim());
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
