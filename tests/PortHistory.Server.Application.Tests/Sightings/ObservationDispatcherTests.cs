using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Sightings;

/// <summary>
/// Delivery to the port grains, one window at a time: a call per port with a delta per writer, chained by the
/// previous sequence number so that a grain sees every gap, and lossy only in ways the journal makes good.
/// </summary>
public sealed class ObservationDispatcherTests
{
    private readonly FakeObservationDelivery _delivery = new();

    [Fact]
    public async Task A_window_makes_one_call_per_port_with_a_delta_per_writer_in_sequence_order()
    {
        var dispatcher = Dispatcher();
        dispatcher.Enqueue(1, [(80, Entry(1)), (443, Entry(2)), (80, Entry(3))]);
        dispatcher.Enqueue(2, [(80, Entry(1))]);
        dispatcher.Enqueue(1, [(80, Entry(4))]);

        await dispatcher.DispatchWindowAsync(CancellationToken.None);

        var calls = _delivery.Take();
        Assert.Equal([80, 443], calls.Select(c => c.Port));
        Assert.Equal(["1:0:1,3,4", "2:0:1"], calls[0].Deltas.Select(Describe));
        Assert.Equal(["1:0:2"], calls[1].Deltas.Select(Describe));
        await dispatcher.DispatchWindowAsync(CancellationToken.None);
        Assert.Empty(_delivery.Take());
    }

    [Fact]
    public async Task Each_delta_names_the_last_sequence_number_delivered_before_it()
    {
        var dispatcher = Dispatcher();
        dispatcher.Enqueue(1, [(80, Entry(1)), (443, Entry(2)), (80, Entry(3))]);
        await dispatcher.DispatchWindowAsync(CancellationToken.None);
        _delivery.Take();

        dispatcher.Enqueue(1, [(443, Entry(4)), (80, Entry(5))]);
        await dispatcher.DispatchWindowAsync(CancellationToken.None);

        Assert.Equal(["80 1:3:5", "443 1:2:4"], _delivery.Take().Select(c => $"{c.Port} {Describe(c.Deltas.Single())}"));
    }

    [Fact]
    public async Task A_failed_delivery_goes_again_before_the_newer_entries_of_its_writer()
    {
        var dispatcher = Dispatcher();
        dispatcher.Enqueue(1, [(80, Entry(1)), (80, Entry(2))]);
        _delivery.Failing[80] = true;
        // Newer entries arrive while the delivery is under way (and then fails).
        _delivery.During = _ => dispatcher.Enqueue(1, [(80, Entry(3))]);
        await dispatcher.DispatchWindowAsync(CancellationToken.None);
        _delivery.Take();

        _delivery.Failing.Clear();
        _delivery.During = null;
        dispatcher.Enqueue(1, [(80, Entry(4))]);
        await dispatcher.DispatchWindowAsync(CancellationToken.None);

        // The merged delta keeps the newer one's previous number (2): the grain reads nothing it is given.
        Assert.Equal("1:2:1,2,3,4", Describe(_delivery.Take().Single().Deltas.Single()));
    }

    [Fact]
    public async Task After_five_failed_deliveries_only_an_empty_delta_naming_the_last_sequence_number_remains()
    {
        var dispatcher = Dispatcher();
        dispatcher.Enqueue(1, [(80, Entry(1)), (80, Entry(2))]);
        _delivery.Failing[80] = true;
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await dispatcher.DispatchWindowAsync(CancellationToken.None);
            // Every failed attempt but the fifth still carried the entries.
            Assert.Equal("1:0:1,2", Describe(_delivery.Take().Single().Deltas.Single()));
        }

        _delivery.Failing.Clear();
        await dispatcher.DispatchWindowAsync(CancellationToken.None);

        Assert.Equal("1:2:", Describe(_delivery.Take().Single().Deltas.Single()));
    }

    [Fact]
    public async Task Beyond_the_memory_limit_entries_are_let_go_as_empty_deltas_naming_their_last_sequence_number()
    {
        // One entry here counts 148 bytes: the first fits, the second call's cross the limit, the third fits again.
        var dispatcher = Dispatcher(maxPendingBytes: 200);
        dispatcher.Enqueue(1, [(80, Entry(1))]);
        dispatcher.Enqueue(1, [(443, Entry(2)), (80, Entry(3))]);
        dispatcher.Enqueue(1, [(443, Entry(4))]);

        await dispatcher.DispatchWindowAsync(CancellationToken.None);

        Assert.Equal(["80 1:3:", "443 1:2:4"], _delivery.Take().Select(c => $"{c.Port} {Describe(c.Deltas.Single())}"));
    }

    [Fact]
    public async Task A_flush_that_may_have_committed_makes_the_next_delta_name_its_sequence_numbers()
    {
        var dispatcher = Dispatcher();
        dispatcher.MayHaveCommitted(1, new Dictionary<int, long> { [80] = 6 });
        dispatcher.Enqueue(1, [(80, Entry(7))]);

        await dispatcher.DispatchWindowAsync(CancellationToken.None);

        Assert.Equal("1:6:7", Describe(_delivery.Take().Single().Deltas.Single()));
    }

    [Fact]
    public async Task The_backlog_counts_every_sighting_until_a_delivery_carrying_it_or_its_gap_succeeds()
    {
        // 148 bytes an entry: the third call crosses the limit and lets go of what waits.
        var dispatcher = Dispatcher(maxPendingBytes: 400);
        Assert.Equal((0L, TimeSpan.Zero), dispatcher.Backlog());

        dispatcher.Enqueue(1, [(80, Entry(1)), (443, Entry(2))]);
        var (waiting, oldest) = dispatcher.Backlog();
        Assert.Equal(2, waiting);
        Assert.True(oldest > TimeSpan.Zero);

        // Failed deliveries keep theirs; so does letting go from memory (the grain is still to read them).
        _delivery.Failing[80] = true;
        await dispatcher.DispatchWindowAsync(CancellationToken.None);
        Assert.Equal(1, dispatcher.Backlog().Sightings);
        dispatcher.Enqueue(2, [(80, Entry(1)), (22, Entry(2))]);
        dispatcher.Enqueue(2, [(22, Entry(3))]);
        Assert.Equal(4, dispatcher.Backlog().Sightings);
        Assert.True(dispatcher.Backlog().Oldest >= oldest);

        _delivery.Failing.Clear();
        await dispatcher.DispatchWindowAsync(CancellationToken.None);
        Assert.Contains(_delivery.Take(), c => c.Port == 80 && c.Deltas.All(d => d.Entries.Length == 0));
        Assert.Equal((0L, TimeSpan.Zero), dispatcher.Backlog());
    }

    /// <summary>"writer:previousSeq:seq,seq…"</summary>
    internal static string Describe(ObservationDelta delta) => $"{delta.Writer}:{delta.PreviousSeq}:{string.Join(',', delta.Entries.Select(e => e.Seq))}";

    private ObservationDispatcher Dispatcher(long maxPendingBytes = 512L * 1024 * 1024) =>
        new(_delivery, Options.Create(new SightingOptions { MaxPendingDeliveryBytes = maxPendingBytes }), new PortHistoryMetrics(), NullLogger<ObservationDispatcher>.Instance);

    private static ObservationEntry Entry(long seq) =>
        new(seq, Transport.Tcp, 42, "host-a", "nginx", "/usr/sbin/nginx", new DateTime(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc), BindScope.Wildcard, false);
}
