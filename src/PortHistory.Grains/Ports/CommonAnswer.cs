using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// The port's answer to the question most callers ask (see <see cref="PortQuery.IsCommon"/>), kept while nothing
/// changes it and published on the silo's <see cref="PortAnswerBoard"/> so the gateway can serve it without a call.
/// </summary>
internal sealed class CommonAnswer(int port, PortAnswerBoard board)
{
    private GetPortResponse? _answer;
    private long _catalogGeneration = -1;

    /// <summary>The kept answer, while it holds: built under this catalog generation, stating the fleet counts the silo has now.</summary>
    public GetPortResponse? Get(long catalogGeneration) =>
        _catalogGeneration == catalogGeneration && _answer is { } answer && board.Holds(PortAnswerBoard.StatedIn(answer)) ? answer : null;

    public void Keep(long catalogGeneration, GetPortResponse answer)
    {
        (_answer, _catalogGeneration) = (answer, catalogGeneration);
        board.Publish(port, catalogGeneration, answer);
    }

    /// <summary>Before anything that changes the answer: the board must never serve one the grain would not give.</summary>
    public void Withdraw()
    {
        _answer = null;
        board.Withdraw(port);
    }
}
