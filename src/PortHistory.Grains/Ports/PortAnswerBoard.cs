using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// The answer each port activation on this silo currently gives to the most common question, GetPort for the
/// newest edition on every transport. Only the port's grain writes its entry: it publishes after building the
/// answer and withdraws it before anything that changes the answer, and on deactivation. A gateway on the same silo
/// can then serve that question without a grain call; when there is no entry, or it was built under another catalog
/// generation, or states fleet counts other than the silo's (<see cref="IObservationContext.Fleet"/>: hosts elsewhere
/// were counted since), it calls the grain, which answers anew. No answer is served that its grain would not give at
/// that moment. Answers are kept pre-encoded (<see cref="GetPortResponse.PreEncoded"/>): they are sent, never read,
/// and encoding the full port record on every call was a fifth of the gateway's work.
/// </summary>
public sealed class PortAnswerBoard(IObservationContext context)
{
    private readonly PublishedAnswer?[] _entries = new PublishedAnswer?[65536];

    /// <summary>
    /// The published answer, pre-encoded and as a completed task: return it to a gRPC call as it is (nothing is
    /// allocated to answer); its properties read as empty.
    /// </summary>
    public Task<GetPortResponse>? TryGet(int port, long catalogGeneration) => TryGetPublication(port, catalogGeneration)?.Answer;

    /// <summary>The publication itself, for a gateway that keeps what it made of the answer with it (its JSON).</summary>
    public PublishedAnswer? TryGetPublication(int port, long catalogGeneration) =>
        Volatile.Read(ref _entries[port]) is { } entry && entry.CatalogGeneration == catalogGeneration && Holds(entry.Fleet) ? entry : null;

    internal void Publish(int port, long catalogGeneration, GetPortResponse answer) =>
        Volatile.Write(ref _entries[port], new PublishedAnswer(catalogGeneration, StatedIn(answer), Task.FromResult(answer.PreEncoded())));

    /// <summary>Whether an answer stating these fleet counts is still true: the silo counted the same since.</summary>
    internal bool Holds(FleetCounts stated) => stated == context.Fleet;

    /// <summary>The fleet counts an answer states (every answer does, in its observed summary).</summary>
    internal static FleetCounts StatedIn(GetPortResponse answer) => answer.Observed is { } observed
        ? new FleetCounts((long)observed.OnlineReportingHosts, (long)observed.StaleReportingHosts, (long)observed.RetiredHosts)
        : default;

    internal void Withdraw(int port) => Volatile.Write(ref _entries[port], null);
}

/// <summary>
/// One publication of a port's answer. A new answer is a new publication, so whatever a gateway keeps with one (the
/// answer's HTTP/JSON body) goes when the answer does.
/// </summary>
public sealed class PublishedAnswer(long catalogGeneration, FleetCounts fleet, Task<GetPortResponse> answer)
{
    private PublishedJson? _json;

    public long CatalogGeneration { get; } = catalogGeneration;

    /// <summary>The fleet counts the answer states.</summary>
    public FleetCounts Fleet { get; } = fleet;

    public Task<GetPortResponse> Answer { get; } = answer;

    /// <summary>The HTTP/JSON body written for this answer, kept for the calls after it; null until one was written.</summary>
    public PublishedJson? Json
    {
        get => Volatile.Read(ref _json);
        set => Volatile.Write(ref _json, value);
    }
}

/// <summary>An answer as an HTTP/JSON body: its bytes and content type.</summary>
public sealed record PublishedJson(byte[] Body, string ContentType);
