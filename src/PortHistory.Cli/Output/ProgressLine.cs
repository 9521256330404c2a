namespace PortHistory.Cli.Output;

/// <summary>One line of progress on a terminal, rewritten in place and wiped when done; nothing at all without a terminal.</summary>
public sealed class ProgressLine(TextWriter? terminal)
{
    private int _shown;

    public void Show(string text)
    {
        if (terminal is null) return;
        terminal.Write($"\r{text.PadRight(_shown)}");
        terminal.Flush();
        _shown = text.Length;
    }

    /// <summary>Wipes the line, so what follows (a result, an error) starts at the left margin.</summary>
    public void Clear()
    {
        if (terminal is null || _shown == 0) return;
        terminal.Write($"\r{new string(' ', _shown)}\r");
        terminal.Flush();
        _shown = 0;
    }
}
