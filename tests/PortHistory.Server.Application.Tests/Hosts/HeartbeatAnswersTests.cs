using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Application.Tests.Hosts;

/// <summary>
/// The heartbeats a silo answers without the host's grain: only those that would change nothing but the time the host
/// was heard, against what the grain last said it holds; one goes to the grain every interval; and a grain turning its
/// host silent does so only if no heartbeat was answered since the time it read.
/// </summary>
public sealed class HeartbeatAnswersTests
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly SocketSetHash Set = new(0x1234, 0x5678);

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly HostPulseBoard _board;
    private readonly HostRecord _held;

    public HeartbeatAnswersTests()
    {
        _board = new HostPulseBoard(null!, null!, Options.Create(new HostReportingOptions { GrainHeartbeatInterval = TimeSpan.FromMinutes(5) }), _clock,
            NullLogger<HostPulseBoard>.Instance);
        _held = HostRecord.New("host-a", Start.UtcDateTime) with
        {
            Version = 3, EpochId = 42, EpochStartedAt = Start.UtcDateTime.AddDays(-1), Seq = 7, SetHash = Set, HostGroup = "web", AgentVersion = "1.2.0",
            DroppedReports = 2, DroppedBytes = 100,
        };
        // The grain heard the host at the start.
        _board.Heard(_held, Start.UtcDateTime);
    }

    [Fact]
    public void A_heartbeat_matching_what_the_grain_holds_is_answered_here_and_counts_as_heard()
    {
        var at = Start.UtcDateTime.AddMinutes(1);

        Assert.Equal(7ul, _board.TryAnswer("host-a", Heartbeat(at)));
        Assert.Equal(at, _board.LastHeard("host-a"));
    }

    public static TheoryData<string> Differences() => ["epoch", "seq", "digest", "group", "version", "privileged", "drops", "dropped bytes"];

    [Theory]
    [MemberData(nameof(Differences))]
    public void A_heartbeat_that_brings_anything_new_goes_to_the_grain(string difference)
    {
        var at = Start.UtcDateTime.AddMinutes(1);
        var beat = Heartbeat(at);
        beat = difference switch
        {
            "epoch" => beat with { EpochId = 43 },
            "seq" => beat with { Seq = 8 },
            "digest" => beat with { SetHash = new SocketSetHash(1, 2) },
            "group" => beat with { HostGroup = "db" },
            "version" => beat with { AgentVersion = "1.3.0" },
            "privileged" => beat with { Privileged = true },
            "drops" => beat with { DroppedReports = 3 },
            "dropped bytes" => beat with { DroppedBytes = 101 },
            _ => throw new ArgumentOutOfRangeException(nameof(difference)),
        };

        Assert.Null(_board.TryAnswer("host-a", beat));
        Assert.Equal(Start.UtcDateTime, _board.LastHeard("host-a"));
    }

    [Fact]
    public void Heartbeats_of_a_host_whose_grain_holds_it_stale_or_retired_or_is_not_here_go_to_the_grain()
    {
        var at = Start.UtcDateTime.AddMinutes(1);
        Assert.Null(_board.TryAnswer("host-elsewhere", Heartbeat(at)));

        _board.Holds(_held with { State = HostState.Stale });
        Assert.Null(_board.TryAnswer("host-a", Heartbeat(at)));

        _board.Holds(_held with { State = HostState.Retired });
        Assert.Null(_board.TryAnswer("host-a", Heartbeat(at)));

        // Back online (the grain said so): answered here again.
        _board.Holds(_held);
        Assert.Equal(7ul, _board.TryAnswer("host-a", Heartbeat(at)));
    }

    [Fact]
    public void One_heartbeat_goes_to_the_grain_every_interval()
    {
        for (var minute = 1; minute < 5; minute++) Assert.NotNull(_board.TryAnswer("host-a", Heartbeat(Start.UtcDateTime.AddMinutes(minute))));

        Assert.Null(_board.TryAnswer("host-a", Heartbeat(Start.UtcDateTime.AddMinutes(5))));

        // The grain heard that one: the next four are answered here again.
        _board.Heard(_held, Start.UtcDateTime.AddMinutes(5));
        Assert.NotNull(_board.TryAnswer("host-a", Heartbeat(Start.UtcDateTime.AddMinutes(6))));
    }

    [Fact]
    public void With_an_interval_of_zero_every_heartbeat_goes_to_the_grain()
    {
        var board = new HostPulseBoard(null!, null!, Options.Create(new HostReportingOptions { GrainHeartbeatInterval = TimeSpan.Zero }), _clock,
            NullLogger<HostPulseBoard>.Instance);
        board.Heard(_held, Start.UtcDateTime);

        Assert.Null(board.TryAnswer("host-a", Heartbeat(Start.UtcDateTime)));
        Assert.Null(board.TryAnswer("host-a", Heartbeat(Start.UtcDateTime.AddSeconds(1))));
    }

    [Fact]
    public void A_host_heard_here_since_the_grain_read_the_time_is_not_silenced()
    {
        var staleBefore = Start.UtcDateTime.AddMinutes(2);
        Assert.NotNull(_board.TryAnswer("host-a", Heartbeat(staleBefore)));

        Assert.False(_board.TrySilence(_held with { State = HostState.Stale }, staleBefore));
        // Still online here: its heartbeats are answered as before.
        Assert.NotNull(_board.TryAnswer("host-a", Heartbeat(staleBefore.AddMinutes(1))));
    }

    [Fact]
    public void A_silenced_host_s_heartbeats_go_to_its_grain_from_then_on()
    {
        var staleBefore = Start.UtcDateTime.AddMinutes(2);

        Assert.True(_board.TrySilence(_held with { State = HostState.Stale }, staleBefore));

        Assert.Null(_board.TryAnswer("host-a", Heartbeat(staleBefore.AddMinutes(1))));
    }

    private HostReportInput Heartbeat(DateTime at) =>
        new(HostReportKind.Heartbeat, _held.EpochId, _held.EpochStartedAt, _held.Seq, _held.SetHash, SocketSetHash.Empty, [], [], at, at,
            _held.HostGroup, _held.AgentVersion, _held.Privileged, _held.DroppedReports, _held.DroppedBytes);
}
