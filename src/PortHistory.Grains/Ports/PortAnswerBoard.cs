using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// The answer each port activation on this silo currently gives to the most common question, GetPort for the
/// newest edition on every transport. Only the port's grain writes its entry: it publishes after building the
/// answer and withdraws it before anything that changes the answer, and on deactivation. A gateway on the same silo
/// can then serve that question without a grain call; when there is no entry, or it was built under another catalog
/// generation, it calls the grain. No answer is served that its grain would not give at that moment. Answers are
/// kept pre-encoded (<see cref="GetPortResponse.PreEncoded"/>): they are sent, never read, and encoding the full port
/// record on every call was a fifth of the gateway's work.
/// </summary>
public sealed class PortAnswerBoard
{
    private readonly Entry?[] _entries = new Entry?[65536];

    /// <summary>
    /// The published answer, pre-encoded and as a completed task: return it to a gRPC call as it is (nothing is
    /// allocated to answer); its properties read as empty.
    /// </summary>
    public Task<GetPortResponse>? TryGet(int port, long catalogGeneration) =>
        Volatile.Read(ref _entries[port]) is { } entry && entry.CatalogGeneration == catalogGeneration ? entry.Answer : null;

    internal void Publish(int port, long catalogGeneration, GetPortResponse answer) =>
        Volatile.Write(ref _entries[port], new Entry(catalogGeneration, Task.FromResult(answer.PreEncoded())));

    internal void Withdraw(int port) => Volatile.Write(ref _entries[port], null);

    private sealed record Entry(long CatalogGeneration, Task<GetPortResponse> Answer);
}
