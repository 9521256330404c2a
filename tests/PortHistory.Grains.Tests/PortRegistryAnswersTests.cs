using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Grains.Tests;

/// <summary>
/// A port's registry answers from its stored timelines under a catalog snapshot: the snapshot's edition order
/// decides which version answers a date and where each version ends.
/// </summary>
public sealed class PortRegistryAnswersTests
{
    private static readonly CatalogSnapshot Catalog = TinyRegistry.Catalog();

    [Fact]
    public void The_newest_edition_answers_with_the_version_in_effect_and_the_edition_it_began_in()
    {
        var rtip = Answers(771).GetPort(Newest());
        var cadlock = Answers(770).GetPort(Newest());

        Assert.Equal(TinyRegistry.SecondId, rtip.Edition.Id);
        var tcp = rtip.Transports.Single(t => t.Transport == Transport.Tcp);
        Assert.Equal(("rtip", "Real-time IP"), (tcp.Records.Single().ServiceName, tcp.Records.Single().Description));
        Assert.Equal(TinyRegistry.SecondId, tcp.Since.Id);
        Assert.Equal(TinyRegistry.FirstId, cadlock.Transports.Single(t => t.Transport == Transport.Tcp).Since.Id);
        Assert.Equal(PortClass.System, cadlock.PortClass);
    }

    [Fact]
    public void A_record_changed_later_answers_since_when_it_is_held_and_when_and_how_it_last_changed()
    {
        // 771/tcp is rtip in both editions; the second only rewrote its description.
        var rtip = Answers(771).GetPort(Newest()).Transports.Single(t => t.Transport == Transport.Tcp);
        var cadlock = Answers(770).GetPort(Newest()).Transports.Single(t => t.Transport == Transport.Tcp);
        var versions = Assert.Single(Answers(771).GetTimeline(Transport.Tcp).Timelines).Versions;

        Assert.Equal((TinyRegistry.FirstId, TinyRegistry.SecondId), (rtip.HeldSince.Id, rtip.Since.Id));
        Assert.Equal(ChangeKind.DescriptionChanged, Assert.Single(rtip.Changes).Kind);
        Assert.Null(rtip.ConventionalSince);
        Assert.Equal((TinyRegistry.FirstId, TinyRegistry.FirstId), (cadlock.HeldSince.Id, cadlock.Since.Id));
        Assert.Equal(ChangeKind.Appeared, Assert.Single(cadlock.Changes).Kind);
        Assert.All(versions, v => Assert.Equal(TinyRegistry.FirstId, v.HeldSince.Id));
        // The edition the answer cites is the catalog's, as for `since`.
        Assert.Same(Catalog.Editions[0], rtip.HeldSince);
    }

    [Fact]
    public void Now_gives_verdicts_since_when_the_assignment_holds_and_the_record_s_last_change()
    {
        var rtip = Answers(771).Now(Transport.Tcp);
        var cadlock = Answers(770).Now(Transport.Tcp);

        Assert.Equal((TinyRegistry.FirstId, $"{TinyRegistry.SecondDate:yyyy-MM-dd}: description changed"), (rtip.Since, rtip.LastChange));
        Assert.Equal((TinyRegistry.FirstId, null), (cadlock.Since, cadlock.LastChange));
        Assert.StartsWith($"assigned to rtip (since {TinyRegistry.FirstId}; record last changed {TinyRegistry.SecondDate:yyyy-MM-dd}: description changed)",
            PortHistory.Observations.VerdictRules.Assignment(rtip), StringComparison.Ordinal);
    }

    [Fact]
    public void A_date_answers_from_the_edition_in_effect_then()
    {
        var between = Answers(771).GetPort(AsOf(TinyRegistry.SecondDate.AddDays(-1)));
        var onTheDay = Answers(771).GetPort(AsOf(TinyRegistry.SecondDate));

        Assert.Equal(TinyRegistry.FirstId, between.Edition.Id);
        Assert.Equal("Real Time IP", between.Transports.Single(t => t.Transport == Transport.Tcp).Records.Single().Description);
        Assert.Equal(TinyRegistry.SecondId, onTheDay.Edition.Id);
    }

    [Fact]
    public void Before_the_first_edition_there_is_no_edition_and_nothing_to_answer()
    {
        var answer = Answers(771).GetPort(AsOf(TinyRegistry.FirstDate.AddDays(-1)));

        Assert.Null(answer.Edition);
        Assert.Empty(answer.Transports);
        Assert.Equal(771u, answer.Port);
    }

    [Fact]
    public void Before_its_assignment_a_port_answers_the_edition_with_no_records()
    {
        var answer = Answers(777).GetPort(AsOf(TinyRegistry.FirstDate));

        Assert.Equal(TinyRegistry.FirstId, answer.Edition.Id);
        Assert.Equal([Transport.Tcp, Transport.Udp], answer.Transports.Select(t => t.Transport));
        Assert.All(answer.Transports, t => Assert.Equal((0, null), (t.Records.Count, t.Since)));
        Assert.Equal("multiling-http", Answers(777).GetPort(Newest()).Transports[0].Records.Single().ServiceName);
    }

    [Fact]
    public void Sctp_and_dccp_are_shown_unasked_only_when_they_say_more_than_unassigned()
    {
        Assert.Equal([Transport.Tcp, Transport.Udp, Transport.Sctp], Answers(9).GetPort(Newest()).Transports.Select(t => t.Transport));
        // 1000/sctp is listed, but as unassigned.
        Assert.Equal([Transport.Tcp, Transport.Udp], Answers(1000).GetPort(Newest()).Transports.Select(t => t.Transport));
        Assert.Equal([Transport.Tcp, Transport.Udp], Answers(770).GetPort(Newest()).Transports.Select(t => t.Transport));
    }

    [Fact]
    public void A_transport_asked_for_is_answered_even_when_it_says_nothing()
    {
        var sctp = Assert.Single(Answers(1000).GetPort(new PortQuery(Transport.Sctp, null)).Transports);
        var dccp = Assert.Single(Answers(770).GetPort(new PortQuery(Transport.Dccp, null)).Transports);

        Assert.Equal((Transport.Sctp, AssignmentStatus.Unassigned), (sctp.Transport, sctp.Records.Single().Status));
        Assert.Equal((Transport.Dccp, 0), (dccp.Transport, dccp.Records.Count));
    }

    [Fact]
    public void A_timeline_lists_each_version_with_the_editions_it_held_through()
    {
        var rtip = Assert.Single(Answers(771).GetTimeline(Transport.Unspecified).Timelines);
        var cadlock = Assert.Single(Answers(770).GetTimeline(Transport.Unspecified).Timelines);

        Assert.Equal(Transport.Tcp, rtip.Transport);
        Assert.Equal(
            [(TinyRegistry.FirstId, TinyRegistry.FirstId, 1u), (TinyRegistry.SecondId, TinyRegistry.SecondId, 1u)],
            rtip.Versions.Select(v => (v.From.Id, v.Through.Id, v.EditionCount)));
        Assert.Equal([(TinyRegistry.FirstId, TinyRegistry.SecondId, 2u)], cadlock.Versions.Select(v => (v.From.Id, v.Through.Id, v.EditionCount)));
    }

    [Fact]
    public void A_newer_committed_edition_that_leaves_the_port_alone_extends_its_last_version()
    {
        var later = new EditionIdentity("iana-csv-2022-01-01", new DateOnly(2022, 1, 1), EditionFileFormat.IanaCsv, "later");
        var answers = new PortRegistryAnswers(770, TinyRegistry.Stored(770), TinyRegistry.Catalog(2, later));

        var version = Assert.Single(Assert.Single(answers.GetTimeline(Transport.Tcp).Timelines).Versions);

        Assert.Equal((TinyRegistry.FirstId, later.Id, 3u), (version.From.Id, version.Through.Id, version.EditionCount));
        Assert.Equal(later.Id, answers.GetPort(Newest()).Edition.Id);
        Assert.Equal(TinyRegistry.FirstId, answers.GetPort(Newest()).Transports[0].Since.Id);
    }

    [Fact]
    public void A_timeline_for_one_transport_lists_only_it_and_an_empty_one_when_never_listed()
    {
        var udp = Assert.Single(Answers(776).GetTimeline(Transport.Udp).Timelines);
        var sctp = Assert.Single(Answers(770).GetTimeline(Transport.Sctp).Timelines);

        Assert.Equal((Transport.Udp, 1), (udp.Transport, udp.Versions.Count));
        Assert.Equal((770u, Transport.Sctp, 0), (sctp.Port, sctp.Transport, sctp.Versions.Count));
        Assert.Empty(Answers(5).GetTimeline(Transport.Unspecified).Timelines);
    }

    [Fact]
    public void Now_gives_verdicts_the_assigned_service_only_for_an_assignment()
    {
        var wpages = Answers(776).Now(Transport.Udp);
        var unassigned = Answers(1000).Now(Transport.Tcp);
        var unlisted = Answers(776).Now(Transport.Dccp);

        Assert.Equal(("wpages", TinyRegistry.FirstId, "assigned"), (wpages.AssignedService, wpages.Since, wpages.StatusText));
        Assert.Equal(["wpages"], wpages.AssignedNames);
        Assert.Equal((null, "unassigned"), (unassigned.AssignedService, unassigned.StatusText));
        Assert.Equal((null, "not listed"), (unlisted.AssignedService, unlisted.StatusText));
    }

    [Fact]
    public void The_common_answer_is_built_once_per_snapshot_and_other_questions_are_not_served_from_it()
    {
        var answers = Answers(771);

        Assert.Same(answers.GetPort(Newest()), answers.GetPort(Newest()));
        Assert.NotSame(answers.GetPort(Newest()), answers.GetPort(new PortQuery(Transport.Tcp, null)));
        Assert.Same(answers.GetTimeline(Transport.Unspecified), answers.GetTimeline(Transport.Unspecified));
    }

    private static PortRegistryAnswers Answers(int port) => new((uint)port, TinyRegistry.Stored(port), Catalog);

    private static PortQuery Newest() => new(Transport.Unspecified, null);

    private static PortQuery AsOf(DateOnly date) => new(Transport.Unspecified, date);
}
