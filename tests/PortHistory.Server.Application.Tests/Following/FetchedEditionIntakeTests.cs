using Microsoft.Extensions.Logging.Abstractions;
using System.Text;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Tests.Import;

namespace PortHistory.Server.Application.Tests.Following;

/// <summary>What a follower does with a body it fetched: a new edition, one it has, or a refusal with a reason.</summary>
public sealed class FetchedEditionIntakeTests
{
    private readonly FakeEditionStore _editions = new();
    private readonly FetchedEditionIntake _intake;

    public FetchedEditionIntakeTests()
    {
        _intake = new FetchedEditionIntake(_editions, new UploadIntake(_editions, new ParsedEditions(), NullLogger<UploadIntake>.Instance));
    }

    private static string Xml(string updated, params string[] records) => $"""
        <?xml version='1.0' encoding='UTF-8'?>
        <registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
          <title>Service Name and Transport Protocol Port Number Registry</title>
          <updated>{updated}</updated>
        {string.Concat(records.Select(r => $"  <record><name>{r}</name><protocol>tcp</protocol><number>{80 + r.Length}</number><description>{r}</description></record>\n"))}</registry>
        """;

    private Task<IntakeOutcome> TakeAsync(string body, string? contentType = "application/xml") =>
        _intake.TakeAsync(new FetchResult.Body(Encoding.UTF8.GetBytes(body), "service-names-port-numbers.xml", contentType, "\"v1\"", null,
            "https://mirror.test/service-names-port-numbers.xml"), DateTimeOffset.UnixEpoch, CancellationToken.None);

    [Fact]
    public async Task A_new_version_becomes_a_pending_edition_dated_by_its_own_content_with_where_it_came_from()
    {
        var outcome = Assert.IsType<IntakeOutcome.Submitted>(await TakeAsync(Xml("2026-08-17", "http")));

        Assert.Equal(("iana-xml-2026-08-17", new DateOnly(2026, 8, 17)), (outcome.EditionId, outcome.Date));
        var stored = Assert.Single(_editions.Editions);
        Assert.True(stored.Pending);
        Assert.Equal("https://mirror.test/service-names-port-numbers.xml", stored.Source);
        Assert.Equal(("https://mirror.test/service-names-port-numbers.xml", "\"v1\""), (_editions.Origins[stored.Id]!.Location, _editions.Origins[stored.Id]!.ETag));
    }

    [Fact]
    public async Task The_same_bytes_again_are_the_edition_already_held()
    {
        await TakeAsync(Xml("2026-08-17", "http"));

        Assert.Equal("iana-xml-2026-08-17", Assert.IsType<IntakeOutcome.Known>(await TakeAsync(Xml("2026-08-17", "http"))).EditionId);
        Assert.Single(_editions.Editions);
    }

    [Fact]
    public async Task Another_version_with_the_same_date_is_a_later_version_of_that_day()
    {
        await TakeAsync(Xml("2026-08-17", "http"));

        var outcome = Assert.IsType<IntakeOutcome.Submitted>(await TakeAsync(Xml("2026-08-17", "http", "https")));

        Assert.Equal("iana-xml-2026-08-17b", outcome.EditionId);
        Assert.Equal("a later version dated 2026-08-17, like iana-xml-2026-08-17", _editions.Origins["iana-xml-2026-08-17b"]!.Remark);
    }

    [Fact]
    public async Task A_version_dated_before_the_newest_edition_is_refused_as_a_stale_copy()
    {
        await TakeAsync(Xml("2026-08-17", "http"));

        var refused = Assert.IsType<IntakeOutcome.Refused>(await TakeAsync(Xml("2026-04-24", "http", "https")));

        Assert.Equal("dated 2026-04-24, before the newest edition iana-xml-2026-08-17 (2026-08-17): a stale copy; the registry does not go back", refused.Reason);
        Assert.Single(_editions.Editions);
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>", "text/plain")]
    [InlineData("\n  <html><head><title>Error</title></head></html>", null)]
    [InlineData("<?xml version='1.0'?><registry/>", "text/html; charset=utf-8")]
    public async Task An_html_page_served_with_success_is_refused(string body, string? contentType)
    {
        var refused = Assert.IsType<IntakeOutcome.Refused>(await TakeAsync(body, contentType));

        Assert.StartsWith("an HTML page", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(_editions.Editions);
    }

    [Fact]
    public async Task A_truncated_download_is_refused()
    {
        var whole = Xml("2026-08-17", "http", "https", "ssh");

        var refused = Assert.IsType<IntakeOutcome.Refused>(await TakeAsync(whole[..(whole.Length * 2 / 3)]));

        Assert.StartsWith("not a readable edition", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(_editions.Editions);
    }

    [Fact]
    public async Task An_xml_bomb_is_refused_without_expanding_its_entities()
    {
        var entities = string.Concat(Enumerable.Range(1, 9).Select(i => $"<!ENTITY lol{i} \"{string.Concat(Enumerable.Repeat($"&lol{i - 1};", 10))}\">"));
        var bomb = $"""
            <?xml version="1.0"?>
            <!DOCTYPE registry [<!ENTITY lol0 "lol">{entities}]>
            <registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
              <title>&lol9;</title>
              <updated>2026-08-17</updated>
              <record><name>http</name><protocol>tcp</protocol><number>80</number><description>&lol9;</description></record>
            </registry>
            """;

        var refused = Assert.IsType<IntakeOutcome.Refused>(await TakeAsync(bomb));

        Assert.StartsWith("not a readable edition", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(_editions.Editions);
    }

    [Fact]
    public async Task A_file_of_another_kind_is_refused()
    {
        // A host's /etc/services, say: not an edition of the registry, whatever it parses as.
        Assert.IsType<IntakeOutcome.Refused>(await TakeAsync("http\t80/tcp\twww # World Wide Web\nssh\t22/tcp\n", "text/plain"));

        Assert.Empty(_editions.Editions);
    }
}
