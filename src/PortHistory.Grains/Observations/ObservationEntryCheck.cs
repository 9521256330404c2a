using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Observations;

/// <summary>
/// What the ingest path guarantees, checked again by the port grain: rows can reach the journal by other ways (an
/// older server, a hand-made row, a caller inside the cluster), and one of them must not stop the port.
/// </summary>
internal static class ObservationEntryCheck
{
    public static string? Unusable(ObservationEntry entry) => entry switch
    {
        { Transport: Transport.Unspecified } => "transport is unspecified",
        _ when !Enum.IsDefined(entry.Transport) => $"unknown transport {(int)entry.Transport}",
        _ when !Enum.IsDefined(entry.Scope) => $"unknown bind scope {(int)entry.Scope}",
        _ when !Enum.IsDefined(entry.Change) => $"unknown listener change {(int)entry.Change}",
        { Change: not ListenerChangeKind.None, Hosts: <= 0 } => $"a listener change for {entry.Hosts} hosts",
        { HostRef: null } or { Process: null } or { Executable: null } => "a text field is missing",
        _ when entry.HostRef.Length > 128 => $"host_ref is {entry.HostRef.Length} characters",
        _ when entry.Process.Length > 256 => $"process is {entry.Process.Length} characters",
        _ when entry.Executable.Length > 4096 => $"executable is {entry.Executable.Length} characters",
        _ when entry.Program?.Length > 128 => $"program is {entry.Program.Length} characters",
        _ when entry.SystemdUnit?.Length > 256 => $"systemd_unit is {entry.SystemdUnit.Length} characters",
        _ when entry.HostGroup?.Length > 64 => $"host_group is {entry.HostGroup.Length} characters",
        _ => null,
    };
}
