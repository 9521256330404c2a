using System.Diagnostics;
using Microsoft.Playwright;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Web.Tests;

/// <summary>
/// One real server with four editions imported (RFC 990 of 1986, RFC 1060, RFC 1340 and the System Ports of the 2026
/// IANA XML: enough for the stories of 771 and 776, where the whole file would stage 49,152 ports), a fleet of twelve hosts of which all run rpc.statd on 776/udp, and one headless
/// Debian chromium that every test opens its own browser context in.
/// </summary>
public sealed class WebPageServer : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    public const string ChromiumPackage = "chromium";

    public static readonly IReadOnlyList<string> Editions =
        ["rfc0990.txt", "rfc1060.txt", "rfc1340.txt", "service-names-port-numbers_2026-08-17.xml"];

    public static readonly IReadOnlyList<string> Fleet = [.. Enumerable.Range(1, 12).Select(i => $"web-{i:D2}")];

    private readonly DirectoryInfo _editions = Directory.CreateTempSubdirectory("porthistory-web-editions-");

    public PostgresServer Postgres { get; private set; } = null!;

    public ServerProcess Server { get; private set; } = null!;

    public string ReaderToken { get; private set; } = "";

    public string AgentToken { get; private set; } = "";

    public Grpc.Net.Client.GrpcChannel Reader { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests' screenshots go: TestResults/screenshots at the repository root (git ignores it).</summary>
    public string Screenshots { get; } = Path.Combine(RegistryData.RepositoryRoot, "TestResults", "screenshots");

    public TimeSpan StartedIn { get; private set; }

    public async Task InitializeAsync()
    {
        // Without the browser every test is skipped (WebFact says why): nothing to start.
        if (!File.Exists(Chromium)) return;
        // A page waited for is drawn in well under a second on an idle machine, but these tests run beside the server
        // suite on two cores, where Playwright's default of 5 s was once not enough (the discrepancies page, then drawing
        // 2,000 rows in 0.8 s idle). The deadline is how long a condition may take to come true, not a retry.
        Assertions.SetDefaultExpectTimeout(20_000);
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(Screenshots);
        await Task.WhenAll(StartServerAsync(), LaunchBrowserAsync());
        StartedIn = clock.Elapsed;
    }

    private async Task LaunchBrowserAsync()
    {
        // The package's own driver (Node and playwright-core ship inside it); the browser is Debian's, never a download.
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
    }

    private async Task StartServerAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Server = new ServerProcess(Postgres.ConnectionString("web"));
        await Server.StartAsync();
        await EditionUpload.ImportAllAsync(Server.Channel, Editions.Select(e => RegistryData.SystemPortsPath(e, _editions.FullName)));
        var access = new AccessAdmin.AccessAdminClient(Server.Channel);
        ReaderToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "web reader", Role = Role.Reader })).Token;
        AgentToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "web agent", Role = Role.Agent })).Token;
        Reader = Server.ChannelWith(() => ReaderToken);

        // rpc.statd on 776/udp on every host: wpages is assigned there, so a squatter once the fleet is large enough.
        await ReportAsync(Fleet.Select(host => Sighting(host, 776, Transport.Udp, "rpc.statd", "/usr/sbin/rpc.statd")));
        var observations = new ObservationsService.ObservationsClient(Reader);
        await Eventually.Async(() => observations.GetObservedAsync(new GetObservedRequest { Port = 776 }).ResponseAsync,
            r => r.Verdicts.Any(v => v.Kind == VerdictKind.Squatter) && r.Observed.ReportingHosts == (ulong)Fleet.Count,
            TimeSpan.FromSeconds(30));
    }

    private readonly object _usageLock = new();
    private Task<SyntheticUsage>? _usage;

    /// <summary>Loads <see cref="SyntheticUsage"/> once (an admin's Usage.LoadUsageHistory), for every test that needs it.</summary>
    public Task<SyntheticUsage> UsageHistoryAsync()
    {
        lock (_usageLock) return _usage ??= LoadUsageHistoryAsync();
    }

    private async Task<SyntheticUsage> LoadUsageHistoryAsync()
    {
        var history = new SyntheticUsage(DateOnly.FromDateTime(DateTime.UtcNow));
        var rows = history.Rows().ToList();
        using var call = new Usage.UsageClient(Server.Channel).LoadUsageHistory();
        foreach (var chunk in rows.Chunk(500)) await call.RequestStream.WriteAsync(new LoadUsageHistoryRequest { Rows = { chunk }, Source = "web tests" });
        await call.RequestStream.CompleteAsync();
        var loaded = await call;
        Assert.Equal((ulong)rows.Count, loaded.Rows);
        return history;
    }

    /// <summary>Reports sightings as the fleet's agents would, over gRPC.</summary>
    public async Task ReportAsync(IEnumerable<Sighting> sightings)
    {
        using var agent = Server.ChannelWith(() => AgentToken);
        var client = new Sightings.SightingsClient(agent);
        var batch = Batch(sightings);
        var result = await client.ReportBatchAsync(batch);
        Assert.True(result.Accepted == batch.Sightings.Count, $"accepted {result.Accepted} of {batch.Sightings.Count}: {result}");
    }

    /// <summary>A fresh browser context (its own sessionStorage) on the page at <paramref name="hash"/>.</summary>
    public async Task<BrowserTab> OpenAsync(string hash = "", string? token = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.HttpAddress,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var tab = new BrowserTab(context, await context.NewPageAsync());
        await tab.Page.GotoAsync("/" + hash);
        if (token is not "") await tab.EnterTokenAsync(token ?? ReaderToken);
        return tab;
    }

    public async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(Screenshots, $"web-{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        Reader?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
        if (Postgres is not null) await Postgres.DisposeAsync();
        _editions.Delete(recursive: true);
    }
}

/// <summary>One browser context and its page; collects what the page logs, so tests can look for CSP violations.</summary>
public sealed class BrowserTab : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _console = [];

    public BrowserTab(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) => { lock (_console) _console.Add($"{message.Type}: {message.Text}"); };
        page.PageError += (_, error) => { lock (_console) _console.Add($"pageerror: {error}"); };
    }

    public IPage Page { get; }

    public IReadOnlyList<string> Console
    {
        get
        {
            lock (_console) return [.. _console];
        }
    }

    /// <summary>Types the token into the form the page shows, as a person would.</summary>
    public async Task EnterTokenAsync(string token)
    {
        var input = Page.GetByLabel("Bearer token");
        await Assertions.Expect(input).ToBeVisibleAsync();
        await input.FillAsync(token);
        await input.PressAsync("Enter");
    }

    public ValueTask DisposeAsync() => new(_context.CloseAsync());
}

