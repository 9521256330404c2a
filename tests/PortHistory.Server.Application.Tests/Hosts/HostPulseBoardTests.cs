using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Application.Tests.Hosts;

/// <summary>
/// Heartbeats cost memory only: a host's last-seen time is written when it moved by more than the write interval, for
/// many hosts in one statement, and never for a host whose own write (a change) already carried it.
/// </summary>
public sealed class HostPulseBoardTests
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly RecordedRows _rows = new();
    private readonly HostPulseBoard _board;

    public HostPulseBoardTests() =>
        // No host here falls silent, so the board never asks a host grain anything.
        _board = new HostPulseBoard(null!, _rows, Options.Create(new HostReportingOptions()), _clock, NullLogger<HostPulseBoard>.Instance);

    [Fact]
    public async Task Heartbeats_write_nothing_until_the_last_seen_time_moved_by_more_than_five_minutes()
    {
        var held = Stored("host-a", lastSeen: Start.UtcDateTime);

        // Five heartbeats, a sweep after each: the time moved by 1 to 5 minutes, never by more.
        for (var beat = 1; beat <= 5; beat++)
        {
            await BeatAsync(held);
        }

        Assert.Empty(_rows.Calls);

        await BeatAsync(held);
        var row = Assert.Single(Assert.Single(_rows.Calls));
        Assert.Equal(("host-a", Start.UtcDateTime.AddMinutes(6)), (row.HostRef, row.LastSeen));

        // Counted again from what was written.
        for (var beat = 1; beat <= 5; beat++) await BeatAsync(held);
        Assert.Single(_rows.Calls);
    }

    [Fact]
    public async Task A_last_seen_time_a_change_already_wrote_is_not_written_again()
    {
        var held = Stored("host-b", lastSeen: Start.UtcDateTime);
        for (var beat = 1; beat <= 4; beat++) await BeatAsync(held);

        // A change at minute 4: the host's own write carried its last-seen time.
        held = held with { LastSeen = _clock.GetUtcNow().UtcDateTime };
        for (var beat = 1; beat <= 5; beat++) await BeatAsync(held);
        Assert.Empty(_rows.Calls);

        await BeatAsync(held);
        Assert.Equal(Start.UtcDateTime.AddMinutes(10), Assert.Single(Assert.Single(_rows.Calls)).LastSeen);
    }

    [Fact]
    public async Task Due_hosts_are_written_together_in_statements_of_at_most_5000()
    {
        var hosts = Enumerable.Range(0, 12_000).Select(i => Stored($"host-{i:D5}", lastSeen: Start.UtcDateTime)).ToList();
        _clock.Advance(TimeSpan.FromMinutes(6));
        foreach (var held in hosts) _board.Heard(held, _clock.GetUtcNow().UtcDateTime);

        await _board.SweepAsync(CancellationToken.None);

        Assert.Equal([5000, 5000, 2000], _rows.Calls.Select(c => c.Count));
        Assert.Equal(12_000, _rows.Calls.SelectMany(c => c).Select(r => r.HostRef).Distinct().Count());
    }

    [Fact]
    public async Task A_host_never_stored_is_not_written()
    {
        var held = HostRecord.New("host-new", Start.UtcDateTime);
        for (var beat = 1; beat <= 7; beat++) await BeatAsync(held);

        Assert.Empty(_rows.Calls);
    }

    /// <summary>A minute passes, the host is heard, the board sweeps.</summary>
    private async Task BeatAsync(HostRecord held)
    {
        _clock.Advance(Heartbeat);
        _board.Heard(held, _clock.GetUtcNow().UtcDateTime);
        await _board.SweepAsync(CancellationToken.None);
    }

    private static HostRecord Stored(string hostRef, DateTime lastSeen) => HostRecord.New(hostRef, lastSeen) with { Version = 1 };

    private sealed class RecordedRows : IHostRows
    {
        public List<IReadOnlyList<HostPulseRow>> Calls { get; } = [];

        public Task WriteLastSeenAsync(IReadOnlyList<HostPulseRow> rows, CancellationToken cancellationToken)
        {
            Calls.Add(rows);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<HostRecord>> ListAsync(HostState? state, string? hostGroup, string after, int limit, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<FleetCounts> CountAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<string>> SilentAsync(HostState state, DateTime before, int limit, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<IAsyncDisposable?> TryLockSweepAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
