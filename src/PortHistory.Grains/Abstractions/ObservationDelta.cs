using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// New journal entries for one port from one writer, in sequence order. Without entries it only says the journal holds
/// that writer's entries up to <see cref="PreviousSeq"/>: the grain reads what it lacks.
/// </summary>
[GenerateSerializer, Immutable, Alias("porthistory.ObservationDelta")]
public sealed record ObservationDelta(
    [property: Id(0)] int Writer,
    [property: Id(1)] long PreviousSeq,
    [property: Id(2)] ObservationEntry[] Entries);

/// <summary>
/// One journal entry as the port grain needs it: a sighting of a full report (<see cref="Change"/> None, the journal
/// keeps every field), or listener changes a host grain passed on (<see cref="Hosts"/> hosts changed that way; no host
/// fields but <see cref="HostRef"/>, one of those hosts; <see cref="Scope"/> Wildcard for reachable listeners, Loopback
/// for the others).
/// </summary>
/// <param name="Program">What a runtime process runs ("zookeeper.jar"); "" when unknown or not a runtime.</param>
/// <param name="SystemdUnit">The process's systemd service ("rpc-statd.service"); "" when none.</param>
/// <param name="HostGroup">The group its agent reports the host in; "" when none.</param>
[GenerateSerializer, Immutable, Alias("porthistory.ObservationEntry")]
public sealed record ObservationEntry(
    [property: Id(0)] long Seq,
    [property: Id(1)] Transport Transport,
    [property: Id(2)] ulong HostHash,
    [property: Id(3)] string HostRef,
    [property: Id(4)] string Process,
    [property: Id(5)] string Executable,
    [property: Id(6)] DateTime ObservedAt,
    [property: Id(7)] BindScope Scope,
    [property: Id(8)] bool Privileged,
    [property: Id(9)] string Program = "",
    [property: Id(10)] string SystemdUnit = "",
    [property: Id(11)] string HostGroup = "",
    [property: Id(12)] ListenerChangeKind Change = ListenerChangeKind.None,
    [property: Id(13)] int Hosts = 0,
    [property: Id(14)] bool Presence = false)
{
    /// <summary>Listener changes: the host itself on the port and transport (<paramref name="presence"/>), or a process there.</summary>
    public static ObservationEntry Listener(long seq, Transport transport, ListenerChangeKind change, bool reachable, int hosts, DateTime at,
        string process = "", string executable = "", string program = "", string systemdUnit = "", bool presence = false) =>
        new(seq, transport, 0, "", process, executable, at, reachable ? BindScope.Wildcard : BindScope.Loopback, false, program, systemdUnit, "",
            change, hosts, presence);

    public bool Reachable => Scope != BindScope.Loopback;
}
