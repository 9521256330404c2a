using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>The IANA text, XML and CSV editions: contacts, dates, encodings, people and multi-line fields, checked against the raw files.</summary>
public sealed class IanaEditionTests
{
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
}
