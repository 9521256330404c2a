using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Hosts;

/// <summary>
/// Heartbeats a silo answers from memory, without a call to the host's grain: those that would change nothing but the
/// time the host was heard (<see cref="Grains.Hosts.HostReportRules.OnlyHeard"/>), checked against what the grain last
/// said it holds.
/// </summary>
public interface IHostHeartbeats
{
    /// <summary>The seq held when the heartbeat was answered here; null when it goes to the host's grain.</summary>
    ulong? TryAnswer(string hostRef, HostReportInput heartbeat);
}
