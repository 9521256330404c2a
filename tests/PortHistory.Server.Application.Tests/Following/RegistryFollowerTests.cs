using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Application.Tests.Import;

namespace PortHistory.Server.Application.Tests.Following;

/// <summary>One fetch at a time, as the follower makes them: what it sends, what it imports, and when it tries again.</summary>
public sealed class RegistryFollowerTests
{
    private const string Source = "https://registry.test/service-names-port-numbers.xml";
    private static readonly DateTimeOffset Start = new(2026, 9, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeEditionStore _editions = new();
    private readonly ScriptedHandler _http = new();
    private readonly SettableClock _clock = new(Start);
    private readonly FollowOptions _options = new() { Interval = TimeSpan.FromDays(1), FirstRetryDelay = TimeSpan.FromMinutes(5), Timeout = TimeSpan.FromSeconds(5) };
    private readonly RegistryFollower _follower;

    public RegistryFollowerTests()
    {
        var options = Options.Create(_options);
        _follower = new RegistryFollower(new UnusedStore(), new EditionFetcher(new Clients(_http), options),
            new FetchedEditionIntake(_editions, new UploadIntake(_editions, new ParsedEditions(), NullLogger<UploadIntake>.Instance)), new FollowStatus(), options, _clock, new PortHistoryMetrics(),
            NullLogger<RegistryFollower>.Instance);
    }

    private static byte[] Xml(string updated) => Encoding.UTF8.GetBytes($"""
        <?xml version='1.0' encoding='UTF-8'?>
        <registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
          <title>Service Name and Transport Protocol Port Number Registry</title>
          <updated>{updated}</updated>
          <record><name>http</name><protocol>tcp</protocol><number>80</number><description>World Wide Web HTTP</description></record>
        </registry>
        """);

    private Task<FollowState> FollowAsync(FollowState state) => _follower.FollowAsync(state, _clock.GetUtcNow(), CancellationToken.None);

    [Fact]
    public async Task A_new_version_is_imported_and_the_next_fetch_asks_whether_it_changed()
    {
        _http.Next(HttpStatusCode.OK, Xml("2026-08-17"), "\"one\"");
        var state = await FollowAsync(new FollowState(Source));

        Assert.Equal(("\"one\"", 0, Start, Start + _options.Interval), (state.ETag, state.ConsecutiveFailures, state.LastChangeAt, state.NextAttemptAt));
        Assert.Equal("iana-xml-2026-08-17", Assert.Single(_editions.Editions).Id);

        _http.Next(HttpStatusCode.NotModified, [], null);
        _clock.Now = Start.AddDays(1);
        state = await FollowAsync(state);

        Assert.Equal("\"one\"", _http.Requests[^1].IfNoneMatch);
        Assert.Equal((Start.AddDays(1), Start), (state.LastSuccessAt, state.LastChangeAt));
        Assert.Single(_editions.Editions);
    }

    [Fact]
    public async Task The_same_bytes_served_without_validators_import_nothing()
    {
        _http.Next(HttpStatusCode.OK, Xml("2026-08-17"), null);
        var state = await FollowAsync(new FollowState(Source));
        _http.Next(HttpStatusCode.OK, Xml("2026-08-17"), null);
        state = await FollowAsync(state);

        Assert.Single(_editions.Editions);
        Assert.Equal((0, Start), (state.ConsecutiveFailures, state.LastChangeAt));
    }

    [Fact]
    public async Task Failures_back_off_doubling_up_to_the_interval_and_a_refused_body_keeps_no_validators()
    {
        var state = new FollowState(Source, ETag: "\"kept\"");
        var delays = new List<TimeSpan>();
        for (var i = 0; i < 12; i++)
        {
            _http.Next(HttpStatusCode.ServiceUnavailable, [], null);
            state = await FollowAsync(state);
            delays.Add(state.NextAttemptAt!.Value - _clock.GetUtcNow());
        }

        Assert.Equal(TimeSpan.FromMinutes(5), delays[0]);
        Assert.Equal(TimeSpan.FromMinutes(10), delays[1]);
        Assert.Equal(TimeSpan.FromMinutes(20), delays[2]);
        Assert.Equal(_options.Interval, delays[^1]);
        Assert.Equal((12, "HTTP 503 Service Unavailable"), (state.ConsecutiveFailures, state.LastError));

        _http.Next(HttpStatusCode.OK, Encoding.UTF8.GetBytes("<html><body>maintenance</body></html>"), "\"error-page\"");
        state = await FollowAsync(state);
        Assert.Equal((13, "\"kept\""), (state.ConsecutiveFailures, state.ETag));
        Assert.StartsWith("an HTML page", state.LastError, StringComparison.Ordinal);
        Assert.Empty(_editions.Editions);
    }

    [Fact]
    public async Task A_body_larger_than_allowed_is_refused_unread()
    {
        _options.MaxBytes = 1024;
        _http.Next(HttpStatusCode.OK, new byte[4096], null);

        var state = await FollowAsync(new FollowState(Source));

        Assert.Equal("the body is 4096 bytes, more than the 1024 allowed", state.LastError);
        Assert.Empty(_editions.Editions);
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Answers each request with the next scripted response, and keeps what was asked.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private readonly Queue<(HttpStatusCode Status, byte[] Body, string? ETag)> _script = new();

        public List<(Uri Uri, string? IfNoneMatch)> Requests { get; } = [];

        public void Next(HttpStatusCode status, byte[] body, string? etag) => _script.Enqueue((status, body, etag));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((request.RequestUri!, request.Headers.IfNoneMatch.FirstOrDefault()?.ToString()));
            var (status, body, etag) = _script.Dequeue();
            var response = new HttpResponseMessage(status) { Content = new ByteArrayContent(body), RequestMessage = request };
            if (etag is not null) response.Headers.ETag = System.Net.Http.Headers.EntityTagHeaderValue.Parse(etag);
            return Task.FromResult(response);
        }
    }

    private sealed class Clients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    private sealed class UnusedStore : IFollowStore
    {
        public Task<IFollowLease?> TryAcquireLeaseAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<FollowState>> LoadAllAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
