using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// A sighting that passed validation, with what was derived (bind scope, family, host hash): the columns of one
/// journal row.
/// </summary>
public sealed record ValidSighting(
    int Port,
    Transport Transport,
    string HostRef,
    ulong HostHash,
    DateTime ObservedAt,
    AddressFamily AddressFamily,
    string LocalAddress,
    BindScope BindScope,
    SocketState State,
    string Process,
    string Executable,
    int Pid,
    string User,
    bool Privileged,
    string ContainerId,
    string NetworkNamespace,
    string Program,
    string SystemdUnit,
    string HostGroup = "");
