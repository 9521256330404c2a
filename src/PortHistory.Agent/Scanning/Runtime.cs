namespace PortHistory.Agent.Scanning;

/// <summary>The interpreters and runtimes whose process name says nothing of what they run.</summary>
public enum Runtime
{
    None,
    Java,
    Python,
    Node,
    Dotnet,
    Ruby,
    Perl,
    Php,
    Erlang,
}
