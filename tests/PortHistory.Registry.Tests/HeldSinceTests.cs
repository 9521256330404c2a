using CsCheck;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>
/// "Since": where the unbroken holding of a port began, apart from where its record last changed. Checked against
/// PROVENANCE.md's facts table and the raw files for ports 770-776, and against a walk over generated editions.
/// </summary>
public sealed class HeldSinceTests(HistoryFixture fixture) : IClassFixture<HistoryFixture>
{
    private readonly RegistryHistory _history = fixture.History;

    private RecordVersion Now(int port, TransportProtocol transport) => _history.Timeline(port, transport).Current!;

    [Theory]
    [InlineData(770, TransportProtocol.Tcp, "cadlock", null)]
    [InlineData(770, TransportProtocol.Udp, "cadlock", "rfc1060")]
    [InlineData(771, TransportProtocol.Tcp, "rtip", "rfc1060")]
    [InlineData(771, TransportProtocol.Udp, "rtip", null)]
    [InlineData(772, TransportProtocol.Tcp, "cycleserv2", "rfc1060")]
    [InlineData(772, TransportProtocol.Udp, "cycleserv2", null)]
    public void Ports_770_to_772_are_held_since_rfc1340_after_the_conventional_use_rfc1060_lists(int port, TransportProtocol protocol, string service,
        string? conventionalSince)
    {
        var now = Now(port, protocol);

        Assert.Equal(service, now.Primary!.ServiceName);
        Assert.Equal(("rfc1340", new DateOnly(1992, 7, 1)), (now.HeldSince.Id, now.HeldSince.Date));
        Assert.Equal("rfc1340, 1992-07", HoldingWords.Cite(now.HeldSince));
        Assert.Equal(conventionalSince, now.ConventionalSince?.Id);
        // No record of these ports changed from RFC 1340 to 2026: the version in effect is the one RFC 1340 began.
        Assert.Equal("rfc1340", now.From.Id);
        Assert.Null(HoldingWords.LastChange(now));
        // What RFC 1060 lists for the port is its UNIX PORTS section, or nothing.
        var rfc1060 = RegistryData.Edition("rfc1060.txt").Records.Where(r => r.Ports == PortSpan.Single(port) && r.Transport == protocol).ToList();
        Assert.Equal(conventionalSince is null ? [] : [("UNIX PORTS", RecordStatus.Conventional)], rfc1060.Select(r => (r.Section!, r.Status)));
    }

    [Theory]
    [InlineData(TransportProtocol.Tcp)]
    [InlineData(TransportProtocol.Udp)]
    public void Port_776_is_wpages_since_rfc1340_its_record_last_changed_in_2004_when_a_contact_was_added(TransportProtocol transport)
    {
        var now = Now(776, transport);

        Assert.Equal("wpages", now.Primary!.ServiceName);
        Assert.Equal("rfc1340", now.HeldSince.Id);
        Assert.Equal("rfc1060", now.ConventionalSince?.Id);
        Assert.Equal("iana-text-2004-01-08", now.From.Id);
        Assert.Equal("2004-01-08: contact added", HoldingWords.LastChange(now));
        // The files: RFC 1700, the last edition before, names no one after wpages; the 2004 text adds the contact line.
        Assert.DoesNotContain(LinesAfter("rfc1700.txt", $"776/{transport.ToText()}"), l => l.Contains("Rao", StringComparison.Ordinal));
        Assert.StartsWith("#", LinesAfter("port-numbers_2004-01-08.txt", "776/udp").First().Trim());
        Assert.Contains("Josyula R. Rao", LinesAfter("port-numbers_2004-01-08.txt", "776/udp").First());
    }

    [Fact]
    public void As_of_1993_port_776_is_held_since_rfc1340_with_no_change_yet()
    {
        var in1993 = _history.AsOf(776, TransportProtocol.Udp, new DateOnly(1993, 1, 1))!.Version!;

        Assert.Equal(("rfc1340", "rfc1340", "rfc1060"), (in1993.HeldSince.Id, in1993.From.Id, in1993.ConventionalSince?.Id));
        Assert.Null(HoldingWords.LastChange(in1993));
    }

    [Fact]
    public void A_rename_keeps_the_holding_the_old_name_began()
    {
        var now = Now(774, TransportProtocol.Udp);

        Assert.Equal(("acmaint-dbd", "iana-xml-2013-02-18"), (now.Primary!.ServiceName, now.From.Id));
        Assert.Equal(("rfc1340", "rfc1060"), (now.HeldSince.Id, now.ConventionalSince?.Id));
        Assert.Equal("2013-02-18: renamed from acmaint_dbd", HoldingWords.LastChange(now));
    }

    [Fact]
    public void A_rename_that_keeps_no_alias_of_the_old_name_keeps_the_holding_too()
    {
        var now = Now(143, TransportProtocol.Tcp);
        var renamed = _history.Timeline(143, TransportProtocol.Tcp).Versions.Single(v => v.Changes.Any(c => c.Kind == RecordChangeKind.Renamed));

        Assert.Equal("imap", now.Primary!.ServiceName);
        Assert.DoesNotContain("imap2", now.Primary.Aliases, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(("iana-text-2004-01-08", "imap2"), (renamed.From.Id, renamed.Changes.Single(c => c.Kind == RecordChangeKind.Renamed).Before));
        // RFC 1060 is the first to list 143, as IMAP2 in its main table.
        Assert.Contains(File.ReadLines(RegistryData.PathOf("rfc1060.txt")), l => l.TrimStart().StartsWith("143       IMAP2", StringComparison.Ordinal));
        Assert.DoesNotContain(RegistryData.Edition("rfc1010.txt").Records, r => r.Ports?.Contains(143) == true && r.Status == RecordStatus.Assigned);
        Assert.Equal("rfc1060", now.HeldSince.Id);
    }

    [Fact]
    public void A_de_assignment_starts_a_holding_of_its_own()
    {
        var versions = _history.Timeline(2, TransportProtocol.Tcp).Versions;

        Assert.Equal(("iana-csv-2026-04-24", RecordStatus.DeAssigned), (versions[^1].HeldSince.Id, versions[^1].Primary!.Status));
        Assert.Equal("compressnet", versions[^2].Primary!.ServiceName);
        Assert.True(versions[^2].HeldSince.Date < new DateOnly(1995, 1, 1));
    }

    [Fact]
    public void Every_version_of_every_port_is_held_since_an_edition_no_later_than_its_own()
    {
        foreach (var transport in TransportProtocols.All)
        {
            foreach (var segment in _history.Segments(transport))
            {
                Assert.All(segment.Versions, v => Assert.True(v.HeldSince.Date <= v.From.Date && (v.ConventionalSince?.Date ?? DateOnly.MinValue) < v.HeldSince.Date,
                    $"{segment.Ports}/{transport.ToText()} from {v.From.Id}: held since {v.HeldSince.Id}, conventional since {v.ConventionalSince?.Id}"));
            }
        }
    }

    /// <summary>
    /// Generated editions of one port: the holding of the version in effect in every edition is the longest run of editions
    /// up to it that list its first service (or, nameless, its status) with the same status, and the conventional use
    /// before an assignment the run of editions just before that list the service as conventional.
    /// </summary>
    [Fact]
    public void The_holding_is_the_run_of_editions_that_list_the_first_service_with_its_status()
    {
        var record = Gen.OneOf(
            Gen.Select(Gen.Int[0, 2], Gen.OneOf(Gen.Const(RecordStatus.Assigned), Gen.Const(RecordStatus.Conventional)), (n, s) => (Name: (string?)new[] { "alpha", "beta", "gamma" }[n], Status: s)),
            Gen.OneOf(Gen.Const(RecordStatus.Unassigned), Gen.Const(RecordStatus.Reserved)).Select(s => (Name: (string?)null, Status: s)));
        record.Array[0, 2].Array[1, 8].Sample(states =>
        {
            var history = RegistryHistory.Build(states.Select(Edition));
            for (var e = 0; e < states.Length; e++)
            {
                if (history.InEdition(Port, TransportProtocol.Tcp, e).Version is not { } version) continue;
                var from = history.EditionRefs.IndexOf(version.From);
                if (version.Primary is not { } primary)
                {
                    Assert.Equal(version.From, version.HeldSince);
                    continue;
                }

                bool Lists(int edition, RecordStatus status) => states[edition].Any(r => r.Status == status && r.Name == primary.ServiceName);
                var start = from;
                while (start > 0 && Lists(start - 1, primary.Status)) start--;
                Assert.Equal(history.EditionRefs[start], version.HeldSince);

                var conventional = start;
                if (primary.Status == RecordStatus.Assigned && primary.ServiceName is not null)
                {
                    while (conventional > 0 && Lists(conventional - 1, RecordStatus.Conventional)) conventional--;
                }

                Assert.Equal(conventional < start ? history.EditionRefs[conventional] : null, version.ConventionalSince);
            }
        }, iter: 500);
    }

    private const int Port = 100;

    private static RegistryEdition Edition((string? Name, RecordStatus Status)[] state, int index)
    {
        var date = new DateOnly(2000, 1, 1).AddYears(index);
        return new RegistryEdition
        {
            Id = $"iana-xml-{date:yyyy-MM-dd}",
            Format = EditionFileFormat.IanaXml,
            Title = "generated",
            EffectiveDate = date,
            DateSource = EditionDateSource.Override,
            Source = "generated",
            Sha256 = $"{index:x64}",
            Bytes = 0,
            // No description and no people: a change of name is then never a rename, only another service.
            Records = [.. state.Select(r => new EditionRecord { ServiceName = r.Name, Ports = PortSpan.Single(Port), Transport = TransportProtocol.Tcp, Status = r.Status })],
        };
    }

    private static IEnumerable<string> LinesAfter(string file, string entry) =>
        File.ReadLines(RegistryData.PathOf(file)).SkipWhile(l => !(l.StartsWith("wpages", StringComparison.Ordinal) && l.Contains(entry, StringComparison.Ordinal))).Skip(1).Take(1);
}
