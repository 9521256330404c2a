using System.Reflection;

namespace PortHistory.Agent.Reporting;

/// <summary>The agent's version as reports carry it ("2.0.0"): the informational version without its source revision, at most 32 characters.</summary>
public static class AgentVersion
{
    public const int MaxLength = 32;

    public static string Current { get; } = Of(typeof(AgentVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    public static string Of(string? informational)
    {
        var version = (informational ?? "").Split('+')[0].Trim();
        return version.Length > MaxLength ? version[..MaxLength] : version;
    }
}
