using System.Text;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>A file that is not an edition fails whole, naming the file, the line (or byte offset) and the reason.</summary>
public sealed class MalformedEditionTests
{
    [Fact]
    public void A_truncated_xml_edition_fails_at_the_line_where_it_ends()
    {
        var bytes = RegistryData.Bytes("service-names-port-numbers_2026-08-17.xml");
        var truncated = bytes[..(bytes.Length / 2)];
        var lastLine = Encoding.UTF8.GetString(truncated).Count(c => c == '\n') + 1;

        var error = Assert.Throws<EditionFormatException>(() => EditionReader.Read(new EditionContent(truncated, "half.xml")));

        Assert.Equal("half.xml", error.SourceName);
        Assert.InRange(error.Line ?? 0, lastLine - 1, lastLine + 1);
        Assert.Contains("not well-formed", error.Reason);
        Assert.StartsWith($"half.xml:{error.Line}: ", error.Message);
    }

    [Fact]
    public void A_binary_file_fails_at_the_offset_of_its_first_nul_byte()
    {
        var bytes = Encoding.ASCII.GetBytes("PK\u0003\u0004 this is a zip");
        bytes[7] = 0;

        var error = Assert.Throws<EditionFormatException>(() => EditionReader.Read(new EditionContent(bytes, "archive.zip")));

        Assert.Equal(7, error.ByteOffset);
        Assert.Contains("binary", error.Reason);
        Assert.Contains("archive.zip (byte offset 7)", error.Message);
    }

    [Fact]
    public void A_csv_whose_header_lacks_a_column_fails_on_line_one_naming_the_column()
    {
        var lines = File.ReadAllText(RegistryData.PathOf("service-names-port-numbers_2024-04-30.csv")).Split("\r\n");
        lines[0] = lines[0][..lines[0].LastIndexOf(',')];
        var bytes = Encoding.UTF8.GetBytes(string.Join("\r\n", lines));

        var error = Assert.Throws<EditionFormatException>(() => EditionReader.Read(new EditionContent(bytes, "short.csv")));

        Assert.Equal(1, error.Line);
        Assert.Contains("Assignment Notes", error.Reason);
    }

    [Fact]
    public void A_csv_row_with_a_missing_field_is_a_warning_on_its_line_and_the_other_rows_stay()
    {
        var text = File.ReadAllText(RegistryData.PathOf("service-names-port-numbers_2024-04-30.csv"));
        var rows = text.Split("\r\n").ToList();
        var index = rows.FindIndex(r => r.StartsWith("wpages,776,udp", StringComparison.Ordinal));
        rows[index] = "wpages,776,udp";
        var edition = EditionReader.Read(new EditionContent(Encoding.UTF8.GetBytes(string.Join("\r\n", rows)), "one-bad-row.csv"),
            new EditionReadOptions { EffectiveDate = new DateOnly(2024, 4, 30) });

        var physicalLine = Array.FindIndex(File.ReadAllLines(RegistryData.PathOf("service-names-port-numbers_2024-04-30.csv")),
            l => l.StartsWith("wpages,776,udp", StringComparison.Ordinal)) + 1;
        var warning = Assert.Single(edition.Warnings);
        Assert.Equal(physicalLine, warning.Line);
        Assert.Contains("expected 12", warning.Reason);
        Assert.Equal(RegistryData.Edition("service-names-port-numbers_2024-04-30.csv").Records.Length - 1, edition.Records.Length);
    }

    [Fact]
    public void An_rfc_without_a_port_section_fails_naming_what_was_looked_for()
    {
        var lines = File.ReadAllLines(RegistryData.PathOf("rfc1340.txt"));
        var cut = Array.FindIndex(lines, l => l.Contains("WELL\tKNOWN PORT NUMBERS", StringComparison.Ordinal) && !l.Contains("..", StringComparison.Ordinal));
        var bytes = Encoding.ASCII.GetBytes(string.Join("\n", lines[..cut]));

        var error = Assert.Throws<EditionFormatException>(() => EditionReader.Read(new EditionContent(bytes, "rfc1340-front.txt")));

        Assert.Equal(EditionFileFormat.RfcAssignedNumbers, EditionReader.Detect(new EditionContent(bytes, "x")));
        Assert.Contains("no port-number section", error.Reason);
        Assert.InRange(error.Line ?? 0, cut - 1, cut);
    }

    [Fact]
    public void A_text_edition_without_a_date_needs_one_given()
    {
        var text = File.ReadAllText(RegistryData.PathOf("port-numbers_2004-01-08.txt")).Replace("(last updated 2004-01-08)", "");

        var error = Assert.Throws<EditionFormatException>(() => EditionReader.Read(new EditionContent(Encoding.ASCII.GetBytes(text), "port-numbers")));
        var given = EditionReader.Read(new EditionContent(Encoding.ASCII.GetBytes(text), "port-numbers"), new EditionReadOptions { EffectiveDate = new DateOnly(2004, 1, 8) });

        Assert.Contains("needs a date", error.Reason);
        Assert.Equal(RegistryData.Edition("port-numbers_2004-01-08.txt").Records.Length, given.Records.Length);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("hello world\nthis is not a registry\n", "unrecognised edition format")]
    [InlineData("<?xml version='1.0'?><html><body/></html>", "not an IANA <registry>")]
    public void Other_non_editions_fail_with_a_reason(string content, string reason)
    {
        var error = Assert.Throws<EditionFormatException>(() => EditionReader.Read(new EditionContent(Encoding.UTF8.GetBytes(content), "thing.txt")));

        Assert.Contains(reason, error.Reason);
    }
}
