// Over 250 lines and one job: the page against one shared server and browser; a second test class would start a second of each.
using System.Diagnostics;
using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.Playwright;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Web.Tests;

/// <summary>
/// The web page in headless chromium against a real server: what it draws is checked against the server's gRPC
/// answers for the same questions. Screenshots go to TestResults/screenshots.
/// </summary>
public sealed class WebPageTests(WebPageServer fixture, ITestOutputHelper output) : IClassFixture<WebPageServer>, IAsyncLifetime
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private PortRegistry.PortRegistryClient Registry => new(fixture.Reader);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        output.WriteLine($"server and browser started in {fixture.StartedIn.TotalSeconds:F1}s (once for the class); this test took {_clock.Elapsed.TotalSeconds:F1}s");
        return Task.CompletedTask;
    }

    private async Task Screenshot(IPage page, string name) => output.WriteLine($"screenshot: {await fixture.ScreenshotAsync(page, name)}");

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task Searching_a_port_number_opens_its_page()
    {
        await using var tab = await fixture.OpenAsync();
        var page = tab.Page;
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("PortHistory");

        var search = page.GetByLabel("Port number or service name");
        await search.FillAsync("771");
        await search.PressAsync("Enter");

        await Expect(page).ToHaveURLAsync(new Regex("#/port/771$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Port 771");
        await Expect(page.Locator("svg.timeline")).ToBeVisibleAsync();
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task Port_771_draws_every_version_per_transport_with_the_editions_as_ticks()
    {
        var timeline = await Registry.GetTimelineAsync(new GetTimelineRequest { Port = 771 });
        var editions = await Registry.ListEditionsAsync(new ListEditionsRequest());
        await using var tab = await fixture.OpenAsync("#/port/771");
        var page = tab.Page;
        await Expect(page.Locator("svg.timeline")).ToBeVisibleAsync();

        foreach (var edition in editions.Editions)
        {
            await Expect(page.Locator($"svg.timeline .edition-tick[data-edition='{edition.Id}']")).ToHaveCountAsync(1);
        }

        Assert.NotEmpty(timeline.Timelines);
        foreach (var transport in timeline.Timelines)
        {
            var bars = page.Locator($"svg.timeline .version[data-transport='{Enum(transport.Transport)}']");
            await Expect(bars).ToHaveCountAsync(transport.Versions.Count);
            foreach (var version in transport.Versions)
            {
                var bar = page.Locator($"svg.timeline .version[data-transport='{Enum(transport.Transport)}'][data-from='{version.From.Id}']");
                var label = await bar.GetAttributeAsync("data-label");
                if (version.Records.Count == 0) Assert.Equal("not listed", label);
                foreach (var record in version.Records) Assert.Contains(record.ServiceName, label);
            }
        }

        // The story of 771: rtip, assigned since RFC 1340, on tcp and udp, and so still in the newest edition.
        foreach (var transport in new[] { "TRANSPORT_TCP", "TRANSPORT_UDP" })
        {
            var rtip = page.Locator($"svg.timeline .version.st-assigned[data-transport='{transport}'][data-from='rfc1340']");
            await Expect(rtip).ToHaveAttributeAsync("data-label", "rtip");
            await Expect(page.Locator($"svg.timeline .version[data-transport='{transport}']").Last).ToHaveAttributeAsync("data-label", "rtip");
        }

        await Expect(page.GetByRole(AriaRole.List, new() { Name = "At a glance" })).ToContainTextAsync("rtip (assigned) since");
        await Screenshot(page, "port-771");
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task Port_776_shows_wpages_in_the_registry_and_the_squatter_the_fleet_runs_there()
    {
        var now = await Registry.GetPortAsync(new GetPortRequest { Port = 776 });
        var listening = now.Observed.Transports.Single(t => t.Transport == Transport.Udp).Processes.Single(p => p.ProcessName == "rpc.statd");
        await using var tab = await fixture.OpenAsync("#/port/776");
        var page = tab.Page;
        await Expect(page.Locator("svg.timeline")).ToBeVisibleAsync();

        foreach (var transport in now.Transports.Where(t => t.Records.Count > 0))
        {
            await Expect(page.Locator($"svg.timeline .version[data-transport='{Enum(transport.Transport)}']").Last)
                .ToHaveAttributeAsync("data-label", transport.Records[0].ServiceName);
        }

        Assert.Contains(now.Transports, t => t.Transport == Transport.Udp && t.Records.Any(r => r.ServiceName == "wpages"));
        var verdict = now.Verdicts.Single(v => v.Transport == Transport.Udp);
        Assert.Equal(VerdictKind.Squatter, verdict.Kind);
        var shown = page.Locator("ul.verdicts li[data-transport='TRANSPORT_UDP']");
        await Expect(shown).ToContainTextAsync("squatter");
        await Expect(shown).ToContainTextAsync(verdict.Reason);

        var observed = page.GetByRole(AriaRole.Table, new() { Name = "udp:" });
        var statd = observed.GetByRole(AriaRole.Row).Filter(new() { HasText = "rpc.statd" });
        await Expect(statd).ToContainTextAsync("/usr/sbin/rpc.statd");
        await Expect(statd.Locator("td").Nth(2)).ToHaveTextAsync(WebPageServer.Fleet.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(statd.Locator("td").Nth(3)).ToHaveTextAsync($"{listening.OnlineHosts} online, {listening.StaleHosts} stale");
        Assert.Equal((ulong)WebPageServer.Fleet.Count, listening.OnlineHosts + listening.StaleHosts);
        await Expect(statd).ToContainTextAsync("wildcard");

        // In the registry now: wpages since RFC 1340, after its conventional use in RFC 1060; the 2026 edition named its contact.
        var wpages = now.Transports.Single(t => t.Transport == Transport.Udp);
        Assert.Equal(("rfc1340", "rfc1060", "iana-xml-2026-08-17"), (wpages.HeldSince.Id, wpages.ConventionalSince.Id, wpages.Since.Id));
        var since = page.GetByRole(AriaRole.Table, new() { Name = "Current assignment per transport" }).Locator("tr[data-transport='TRANSPORT_UDP'] td.since");
        await Expect(since).ToContainTextAsync("rfc1340 (1992-07-01)");
        await Expect(since).ToContainTextAsync("conventional use since rfc1060 (1990-03-01)");
        await Expect(since).ToContainTextAsync("record last changed in iana-xml-2026-08-17 (2026-08-17)");
        await Expect(since).ToContainTextAsync("Josyula R. Rao");
        await Screenshot(page, "port-776");
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task Choosing_a_bar_shows_its_record_its_people_and_where_it_comes_from()
    {
        var timeline = await Registry.GetTimelineAsync(new GetTimelineRequest { Port = 776 });
        var newest = timeline.Timelines.Single(t => t.Transport == Transport.Udp).Versions.Last();
        var record = Assert.Single(newest.Records);
        Assert.NotEmpty(record.Assignees);
        var oldest = timeline.Timelines.Single(t => t.Transport == Transport.Tcp).Versions.First();
        var listed = Assert.Single(oldest.Records);
        Assert.Equal(AssignmentStatus.Conventional, listed.Status);
        await using var tab = await fixture.OpenAsync("#/port/776");
        var page = tab.Page;
        var panel = page.Locator("#record");

        var chosen = page.Locator($"svg.timeline .version[data-transport='TRANSPORT_UDP'][data-from='{newest.From.Id}']");
        await chosen.ClickAsync();
        await Expect(chosen).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(panel.Locator("h3")).ToHaveTextAsync($"udp: {record.ServiceName}");
        await Expect(Field(panel, "Service")).ToHaveTextAsync(record.ServiceName);
        await Expect(Field(panel, "Status")).ToHaveTextAsync("assigned");
        foreach (var person in record.Assignees) await Expect(Field(panel, "Assignees")).ToContainTextAsync(person.Name);
        await Expect(Field(panel, "Source")).ToContainTextAsync($"line {record.Line}");
        await Screenshot(page, "port-776-record");

        // By keyboard: the first bar of tcp, focused and chosen with Enter, is RFC 1060's conventional use.
        await page.Locator($"svg.timeline .version[data-transport='TRANSPORT_TCP'][data-from='{oldest.From.Id}']").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(panel.Locator("h3")).ToHaveTextAsync($"tcp: {listed.ServiceName}");
        await Expect(Field(panel, "Status")).ToHaveTextAsync("conventional");
        await Expect(Field(panel, "Source")).ToContainTextAsync($"line {listed.Line}");
        if (listed.Section.Length > 0) await Expect(Field(panel, "Source")).ToContainTextAsync(listed.Section);
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task A_service_link_opens_the_service_page_with_every_holding()
    {
        var service = await Registry.FindServiceAsync(new FindServiceRequest { Name = "wpages" });
        await using var tab = await fixture.OpenAsync("#/port/776");
        var page = tab.Page;

        await page.GetByRole(AriaRole.Table, new() { Name = "Current assignment per transport" }).GetByRole(AriaRole.Link, new() { Name = "wpages" }).First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("#/service/wpages$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Service wpages");
        var holdings = page.GetByRole(AriaRole.Table).First.Locator("tbody tr");
        await Expect(holdings).ToHaveCountAsync(service.Holdings.Count);
        await Expect(holdings.GetByRole(AriaRole.Link, new() { Name = "776", Exact = true }).First).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Rename chain" })).ToBeVisibleAsync();
        await Screenshot(page, "service-wpages");
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task A_versions_change_link_opens_the_diff_of_its_two_editions()
    {
        var timeline = await Registry.GetTimelineAsync(new GetTimelineRequest { Port = 771, Transport = Transport.Tcp });
        var versions = timeline.Timelines.Single().Versions;
        var index = versions.ToList().FindIndex(v => v.From.Id == "rfc1340");
        Assert.True(index > 0, "771/tcp has a version before RFC 1340");
        var (from, to) = (versions[index - 1].Through.Id, versions[index].From.Id);
        var expected = new List<DiffEntry>();
        using (var call = Registry.DiffEditions(new DiffEditionsRequest { FromEdition = from, ToEdition = to, Ports = new PortRange { First = 771, Last = 771 } }))
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync()) expected.AddRange(message.Entries);
        }

        await using var tab = await fixture.OpenAsync("#/port/771");
        var page = tab.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = $"What changed from {from} to {to}" }).First.ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"#/diff\\?from={from}&to={to}&first=771&last=771$"));
        await Expect(page.GetByLabel("From edition")).ToHaveValueAsync(from);
        await Expect(page.GetByLabel("To edition")).ToHaveValueAsync(to);
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Differences, in port order" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(expected.Count);
        Assert.NotEmpty(expected);
        await Expect(rows.Filter(new() { HasText = "tcp" }).First).ToContainTextAsync("rtip");

        // Two other editions picked from the lists: the URL follows, so the view can be shared.
        var editions = (await Registry.ListEditionsAsync(new ListEditionsRequest())).Editions;
        var (oldest, newest) = (editions[0].Id, editions[^1].Id);
        await page.GetByLabel("From edition").SelectOptionAsync(oldest);
        await page.GetByLabel("To edition").SelectOptionAsync(newest);
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/diff\\?from={oldest}&to={newest}&first=771&last=771$"));
        await Expect(page.Locator("p.summary")).ToContainTextAsync($"from {oldest}");
        await Screenshot(page, "diff-771");
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task The_discrepancies_list_shows_a_squatter_once_hosts_report_it_and_its_name_as_text()
    {
        // An agent's process name is the agent's to choose: markup in it must stay text.
        const string hostile = "<img src=x onerror=\"document.title='pwned'\">";
        await fixture.ReportAsync(WebPageServer.Fleet.Take(4).Select(host => Sighting(host, 771, Transport.Tcp, hostile, "/opt/x/agent")));
        var observations = new ObservationsService.ObservationsClient(fixture.Reader);
        await Eventually.Async(async () =>
        {
            using var call = observations.ListDiscrepancies(new ListDiscrepanciesRequest { Verdicts = { VerdictKind.Squatter } });
            var found = new List<Discrepancy>();
            await foreach (var message in call.ResponseStream.ReadAllAsync()) found.AddRange(message.Discrepancies);
            return found;
        }, found => found.Any(d => d.Port == 771 && d.Verdict.Transport == Transport.Tcp), TimeSpan.FromSeconds(30));

        await using var tab = await fixture.OpenAsync("#/discrepancies?verdict=squatter");
        var page = tab.Page;
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Discrepancies, in port order" }).Locator("tbody tr");
        var squatter = rows.Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "771", Exact = true }) });
        await Expect(squatter).ToContainTextAsync("squatter");
        await Expect(squatter).ToContainTextAsync(hostile);
        await Expect(squatter).ToContainTextAsync("rtip");
        await Expect(rows.Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "776", Exact = true }) })).ToContainTextAsync("rpc.statd");
        Assert.Equal(0, await page.Locator("main img").CountAsync());
        Assert.NotEqual("pwned", await page.TitleAsync());
        await Screenshot(page, "discrepancies");

        // Filters: unregistered only leaves the squatters out, and says so in the URL.
        await page.GetByLabel("squatter").UncheckAsync();
        await page.GetByLabel("unregistered").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("#/discrepancies\\?verdict=unregistered$"));
        await Expect(rows.Filter(new() { HasText = "squatter" })).ToHaveCountAsync(0);
        await Expect(page.Locator("p.summary")).ToBeVisibleAsync();
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task The_default_discrepancies_list_is_drawn_500_rows_at_a_time_in_the_server_s_order()
    {
        // The page's default verdicts; with the fleet past the verdicts' minimum every unobserved assignment is a ghost.
        using var call = new ObservationsService.ObservationsClient(fixture.Reader).ListDiscrepancies(new ListDiscrepanciesRequest
        {
            Verdicts = { VerdictKind.Squatter, VerdictKind.Unregistered, VerdictKind.Ghost },
        });
        var listed = new List<Discrepancy>();
        await foreach (var message in call.ResponseStream.ReadAllAsync()) listed.AddRange(message.Discrepancies);
        Assert.True(listed.Count > 1000, $"the server lists {listed.Count} discrepancies");

        await using var tab = await fixture.OpenAsync("#/discrepancies");
        var page = tab.Page;
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Discrepancies, in port order" }).Locator("tbody tr");
        await Expect(page.Locator("p.summary")).ToContainTextAsync($"{listed.Count} discrepancies");
        await Expect(rows).ToHaveCountAsync(500);
        await Expect(page.GetByText($"Showing 500 of {listed.Count}")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Next 500 rows" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1000);
        await Expect(page.GetByText($"Showing 1000 of {listed.Count}")).ToBeVisibleAsync();
        var drawn = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.port + '/' + r.dataset.verdict)");
        Assert.Equal(listed.Take(1000).Select(d => $"{d.Port}/{d.Verdict.Kind.ToString().ToUpperInvariant()}"), drawn.Select(Normalized));

        static string Normalized(string drawn) => drawn.Replace("VERDICT_KIND_", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task The_hosts_page_lists_the_fleet_for_an_admin_and_a_host_s_page_its_sockets_while_a_reader_is_told_why_not()
    {
        var hosts = await new Hosts.HostsClient(fixture.Server.Channel).ListHostsAsync(new ListHostsRequest());
        var first = hosts.Hosts.First(h => h.HostRef == WebPageServer.Fleet[0]);

        await using (var tab = await fixture.OpenAsync("#/hosts", token: fixture.Server.AdminToken))
        {
            var page = tab.Page;
            await Expect(page.Locator("p.summary")).ToContainTextAsync($"{hosts.Online} online, {hosts.Stale} stale, {hosts.Retired} retired");
            var row = page.GetByRole(AriaRole.Table, new() { Name = "Hosts, in host_ref order" }).Locator($"tbody tr[data-host='{first.HostRef}']");
            await Expect(row).ToContainTextAsync("full reports");
            await Expect(row).ToContainTextAsync(first.Sockets.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Screenshot(page, "hosts");

            await row.GetByRole(AriaRole.Link, new() { Name = first.HostRef, Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"Host {first.HostRef}");
            var sockets = page.GetByRole(AriaRole.Table, new() { Name = "Sockets it listens on now" }).Locator("tbody tr");
            await Expect(sockets.Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "776/udp", Exact = true }) })).ToContainTextAsync("rpc.statd");
        }

        await using var reader = await fixture.OpenAsync("#/hosts");
        await Expect(reader.Page.Locator("p.hint")).ToContainTextAsync("shown to an admin token only");
        await Expect(reader.Page.Locator("table")).ToHaveCountAsync(0);
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task A_refused_token_brings_the_token_form_back_with_the_reason()
    {
        await using var tab = await fixture.OpenAsync("#/port/776", token: "not-a-token");
        var page = tab.Page;

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("401");
        await Expect(page.GetByLabel("Bearer token")).ToBeFocusedAsync();
        await Expect(page.Locator("svg.timeline")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('porthistory.token')"));
        await Screenshot(page, "token-refused");

        await tab.EnterTokenAsync(fixture.ReaderToken);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Port 776");
        await Expect(page.GetByLabel("Bearer token")).ToBeHiddenAsync();

        // Kept for the tab's session: a reload asks for nothing.
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Port 776");
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task The_page_is_served_with_a_strict_content_security_policy_and_breaks_none_of_it()
    {
        using var http = new HttpClient();
        using var index = await http.GetAsync($"{fixture.Server.HttpAddress}/");
        Assert.Equal(System.Net.HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", index.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy);
        Assert.Contains("default-src 'none'", policy);
        Assert.DoesNotContain("unsafe", policy);
        var html = await index.Content.ReadAsStringAsync();
        Assert.DoesNotMatch(new Regex("<script(?![^>]*\\bsrc=)", RegexOptions.IgnoreCase), html);
        using var script = await http.GetAsync($"{fixture.Server.HttpAddress}/js/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        // The page gives no one the API: the routes still need a token.
        using var api = await http.GetAsync($"{fixture.Server.HttpAddress}/v1/ports/776");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, api.StatusCode);

        await using var tab = await fixture.OpenAsync("#/port/776");
        await Expect(tab.Page.Locator("svg.timeline")).ToBeVisibleAsync();
        await tab.Page.GotoAsync("/#/discrepancies");
        await Expect(tab.Page.GetByRole(AriaRole.Table, new() { Name = "Discrepancies, in port order" })).ToBeVisibleAsync();
        Assert.DoesNotContain(tab.Console, line => line.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || line.StartsWith("pageerror", StringComparison.Ordinal));
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task Port_776_draws_loaded_years_of_rpc_statd_under_the_registry_changes_and_names_a_process_below_the_floor_to_admins_only()
    {
        var history = await fixture.UsageHistoryAsync();
        var timeline = await Registry.GetTimelineAsync(new GetTimelineRequest { Port = SyntheticUsage.Port });
        var day = history.Today.AddDays(-200);
        var statd = history.StatdHosts(day);
        Assert.Equal(41u, statd);

        await using (var admin = await fixture.OpenAsync("#/port/776", token: fixture.Server.AdminToken))
        {
            var page = admin.Page;
            var chart = page.Locator("svg.usage");
            await Expect(chart.Locator($"path.series[data-kind='process'][data-process='{SyntheticUsage.Statd}']")).ToHaveCountAsync(1);
            await Expect(chart.Locator($"path.series[data-kind='process'][data-process='{SyntheticUsage.Odd}']")).ToHaveCountAsync(1);
            await Expect(chart.Locator("path.series[data-kind='total'][data-transport='TRANSPORT_UDP']")).ToHaveCountAsync(1);

            // The mouse over a day of the last year: its date and the loaded levels.
            var tip = await HoverDayAsync(page, day);
            await Expect(tip.Locator(".tip-date")).ToHaveTextAsync(Day(day));
            await Expect(tip.Locator($"li[data-process='{SyntheticUsage.Statd}']")).ToHaveTextAsync($"rpc.statd (udp): {statd} hosts, {statd} reachable");
            await Expect(tip.Locator("li[data-kind='total'][data-transport='TRANSPORT_UDP']")).ToHaveTextAsync($"all processes (udp): {statd} hosts");
            tip = await HoverDayAsync(page, history.BurstFirst);
            await Expect(tip.Locator(".tip-date")).ToHaveTextAsync(Day(history.BurstFirst));
            await Expect(tip.Locator($"li[data-process='{SyntheticUsage.Odd}']")).ToHaveTextAsync($"{SyntheticUsage.Odd} (udp): {SyntheticUsage.OddHosts} hosts, {SyntheticUsage.OddHosts} reachable");
            await Expect(tip.Locator("li[data-kind='total'][data-transport='TRANSPORT_UDP']"))
                .ToHaveTextAsync($"all processes (udp): {history.StatdHosts(history.BurstFirst) + SyntheticUsage.OddHosts} hosts");
            await Screenshot(page, "port-776-usage-admin");

            // Ten years, monthly: refetched; every registry change in the range is a marker on the same axis.
            await page.GetByLabel("Usage range").SelectOptionAsync("10y");
            await Expect(page.Locator(".usage-body")).ToHaveAttributeAsync("data-granularity", "USAGE_GRANULARITY_MONTH");
            var (from, to) = (ParseDay(await chart.GetAttributeAsync("data-from")), ParseDay(await chart.GetAttributeAsync("data-to")));
            Assert.True(to.DayNumber - from.DayNumber > 9 * 365, $"{from} to {to} is not ten years");
            var changes = timeline.Timelines.SelectMany(t => t.Versions
                .Select(v => (Transport: Enum(t.Transport), Edition: v.From.Id, Day: new DateOnly(v.From.EffectiveDate.Year, v.From.EffectiveDate.Month, v.From.EffectiveDate.Day))))
                .Where(c => c.Day >= from && c.Day <= to).ToList();
            Assert.NotEmpty(changes);
            await Expect(chart.Locator(".assignment-marker")).ToHaveCountAsync(changes.Count);
            foreach (var change in changes)
            {
                await Expect(chart.Locator($".assignment-marker[data-transport='{change.Transport}'][data-from='{change.Edition}']")).ToHaveAttributeAsync("data-day", Day(change.Day));
            }

            var monthly = await HoverDayAsync(page, day);
            await Expect(monthly.Locator(".tip-date")).ToHaveTextAsync(Day(day)[..7]);
            await Expect(monthly.Locator($"li[data-process='{SyntheticUsage.Statd}']")).ToContainTextAsync($"rpc.statd (udp): {statd} hosts");
        }

        // A reader: the odd process is on fewer hosts than the floor, so it is "other" and its count "fewer than 3".
        await using var reader = await fixture.OpenAsync("#/port/776");
        var tab = reader.Page;
        var usage = tab.Locator(".usage-body");
        await Expect(usage.Locator($"svg.usage path.series[data-process='{SyntheticUsage.Statd}']")).ToHaveCountAsync(1);
        var burst = await HoverDayAsync(tab, history.BurstFirst);
        await Expect(burst.Locator("li[data-kind='other'][data-transport='TRANSPORT_UDP']")).ToHaveTextAsync("other (udp): fewer than 3 hosts");
        await Expect(burst.Locator($"li[data-process='{SyntheticUsage.Statd}']")).ToContainTextAsync($"rpc.statd (udp): {history.StatdHosts(history.BurstFirst)} hosts");
        await Expect(usage).Not.ToContainTextAsync(SyntheticUsage.Odd);
        await Expect(tab.Locator($"[data-process='{SyntheticUsage.Odd}']")).ToHaveCountAsync(0);

        // The lifetimes: rpc.statd since the first loaded day.
        var lifetimes = tab.GetByRole(AriaRole.Table, new() { Name = "Processes on port 776, first to last seen" });
        var row = lifetimes.Locator($"tbody tr[data-process='{SyntheticUsage.Statd}']").Filter(new() { Has = tab.Locator("td.first-seen", new() { HasText = Day(history.First) }) });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("udp");
        await Expect(row.Locator("td.peak")).ToHaveTextAsync($"44 hosts on {Day(history.First.AddDays(400))}");
        await Screenshot(tab, "port-776-usage-reader");
    }

    [InstalledFileFact(WebPageServer.Chromium, WebPageServer.ChromiumPackage)]
    public async Task Port_771_says_no_listener_was_seen_since_hosts_began_reporting()
    {
        var history = await fixture.UsageHistoryAsync();
        var usage = new Usage.UsageClient(fixture.Reader);
        var answer = await usage.GetUsageHistoryAsync(new GetUsageHistoryRequest { Port = 771, Transport = Transport.Udp });
        Assert.DoesNotContain(answer.Series, s => s.Points.Any(p => p.Hosts > 0 || p.FewerThanFloor));
        var since = ParseDay(answer.ReportingSince);
        Assert.True(since <= history.First, $"reporting since {since}, after the loaded history's first day {history.First}");

        await using var tab = await fixture.OpenAsync("#/port/771");
        var page = tab.Page;
        var body = page.Locator(".usage-body");
        // A year: nothing since the range's first day. (Another test may make 771/tcp a squatter: then udp alone is named.)
        var (from, to) = (ParseDay(await body.GetAttributeAsync("data-from")), history.Today);
        await Expect(body.Locator("p.usage-statement").Last).ToHaveTextAsync(
            new Regex($"^No listener seen on 771(/udp)? in {to.DayNumber - from.DayNumber + 1} days \\(reporting since {Day(since)}\\)\\.$"));

        // Ten years: nothing since hosts began reporting, which is later than the range's first day.
        await page.GetByLabel("Usage range").SelectOptionAsync("10y");
        await Expect(body).ToHaveAttributeAsync("data-granularity", "USAGE_GRANULARITY_MONTH");
        Assert.True(ParseDay(await body.GetAttributeAsync("data-from")) < since);
        var days = (to.DayNumber - since.DayNumber + 1).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        await Expect(body.Locator("p.usage-statement").Last).ToHaveTextAsync(
            new Regex($"^No listener seen on 771(/udp)? in {Regex.Escape(days)} days \\(reporting since {Day(since)}\\)\\.$"));
        await Screenshot(page, "port-771-usage");
    }

    /// <summary>Moves the mouse over the usage chart at <paramref name="day"/> and answers its tooltip once shown.</summary>
    private static async Task<ILocator> HoverDayAsync(IPage page, DateOnly day)
    {
        var chart = page.Locator("svg.usage");
        var (from, to) = (ParseDay(await chart.GetAttributeAsync("data-from")), ParseDay(await chart.GetAttributeAsync("data-to")));
        Assert.InRange(day, from, to);
        var plot = chart.Locator("rect.hover");
        var box = await plot.BoundingBoxAsync() ?? throw new InvalidOperationException("the chart's plot is not laid out");
        var at = (day.DayNumber - from.DayNumber + 0.5) / (to.DayNumber - from.DayNumber + 1);
        await plot.HoverAsync(new() { Position = new() { X = (float)(at * box.Width), Y = box.Height / 2 } });
        var tip = page.Locator(".usage-tip");
        await Expect(tip).ToBeVisibleAsync();
        return tip;
    }

    private static DateOnly ParseDay(string? text) =>
        DateOnly.ParseExact(text ?? "", "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static ILocator Field(ILocator panel, string name) =>
        panel.Locator("dt").Filter(new() { HasTextRegex = new Regex($"^{name}$") }).Locator("xpath=following-sibling::dd[1]");

    private static string Enum(Transport transport) => transport switch
    {
        Transport.Tcp => "TRANSPORT_TCP",
        Transport.Udp => "TRANSPORT_UDP",
        Transport.Sctp => "TRANSPORT_SCTP",
        Transport.Dccp => "TRANSPORT_DCCP",
        _ => "TRANSPORT_UNSPECIFIED",
    };
}
