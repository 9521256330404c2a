using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;

namespace PortHistory.Grains.Tests;

/// <summary>
/// A published answer states the fleet's counts; once the silo has counted other hosts it is neither served from the
/// board nor kept by its grain, so the next call answers anew (the counts, and what rests on them, as they are now).
/// </summary>
public sealed class PortAnswerBoardTests
{
    private const int Port = 772;
    private const long Generation = 7;

    private static GetPortResponse Answer(FleetCounts fleet) => new()
    {
        Port = Port,
        Observed = new ObservedSummary
        {
            Port = Port,
            ReportingHosts = (ulong)fleet.Reporting,
            OnlineReportingHosts = (ulong)fleet.Online,
            StaleReportingHosts = (ulong)fleet.Stale,
            RetiredHosts = (ulong)fleet.Retired,
        },
    };

    [Fact]
    public void An_answer_stating_the_counts_the_silo_has_is_served_and_kept_and_one_stating_others_is_not()
    {
        var context = new FixedObservationContext { Fleet = new FleetCounts(0, 0, 0) };
        var board = new PortAnswerBoard(context);
        var common = new CommonAnswer(Port, board);
        var answer = Answer(context.Fleet);
        common.Keep(Generation, answer);
        Assert.NotNull(board.TryGet(Port, Generation));
        Assert.Same(answer, common.Get(Generation));

        // Three hosts were counted after the answer was built: it says 0 reporting hosts, so it goes.
        context.Fleet = new FleetCounts(3, 0, 0);
        Assert.Null(board.TryGet(Port, Generation));
        Assert.Null(board.TryGetPublication(Port, Generation));
        Assert.Null(common.Get(Generation));

        // The answer built now states them and is served again; a host going stale is a change of counts too.
        var rebuilt = Answer(context.Fleet);
        common.Keep(Generation, rebuilt);
        Assert.NotNull(board.TryGet(Port, Generation));
        Assert.Same(rebuilt, common.Get(Generation));
        context.Fleet = new FleetCounts(2, 1, 0);
        Assert.Null(board.TryGet(Port, Generation));
        Assert.Null(common.Get(Generation));

        // Another catalog generation is never served, whatever the counts.
        context.Fleet = new FleetCounts(3, 0, 0);
        Assert.Null(board.TryGet(Port, Generation + 1));
    }

    [Fact]
    public void The_counts_an_answer_states_are_read_from_its_observed_summary()
    {
        Assert.Equal(new FleetCounts(5, 2, 9), PortAnswerBoard.StatedIn(Answer(new FleetCounts(5, 2, 9))));
        Assert.Equal(default, PortAnswerBoard.StatedIn(new GetPortResponse { Port = Port }));
    }
}
