namespace PortHistory.Agent;

/// <summary>Where the agent says what it does (standard output) and what went wrong (standard error, the journal).</summary>
public sealed record AgentLog(TextWriter Output, TextWriter Error);
