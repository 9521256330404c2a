using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>What happened to a listener: a host and a process listening on a (port, transport).</summary>
public enum ListenerChangeKind : byte
{
    /// <summary>Not a listener change: a sighting of a full report, counted as reported.</summary>
    None = 0,

    /// <summary>The host started listening (an online host).</summary>
    Added = 1,

    /// <summary>An online host stopped listening: the process is gone from it.</summary>
    Removed = 2,

    /// <summary>The host went silent: its listener is kept, counted as stale.</summary>
    WentStale = 3,

    /// <summary>The host was heard again: its stale listener counts as online again.</summary>
    CameBack = 4,

    /// <summary>A stale host's listener was removed (the host was retired, or came back without it).</summary>
    RemovedWhileStale = 5,
}

/// <summary>
/// Listener changes of one kind, added up: <see cref="Hosts"/> hosts changed that way for the process (a
/// <see cref="ProcessId"/> of <see cref="HostPresence"/> stands for the host itself on the port and transport,
/// whatever runs there).
/// </summary>
/// <param name="Reachable">Whether the listener is reachable from the network (any bind but loopback).</param>
[GenerateSerializer, Immutable, Alias("porthistory.ListenerDelta")]
public readonly record struct ListenerDelta(
    [property: Id(0)] int Port,
    [property: Id(1)] Transport Transport,
    [property: Id(2)] int ProcessId,
    [property: Id(3)] ListenerChangeKind Kind,
    [property: Id(4)] bool Reachable,
    [property: Id(5)] int Hosts)
{
    /// <summary>The process id of a host's presence on a port and transport.</summary>
    public const int HostPresence = 0;
}
