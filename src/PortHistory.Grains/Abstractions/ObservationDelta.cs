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

/// <summary>One sighting as the port grain needs it (the journal keeps every field).</summary>
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
    [property: Id(11)] string HostGroup = "");
