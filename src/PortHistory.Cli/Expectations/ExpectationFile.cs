using System.Globalization;
using System.Text;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Expectations;

/// <summary>One expectation as the CLI shows and files it.</summary>
/// <param name="Group">Null: every host.</param>
public sealed record ExpectationView(int Port, TransportProtocol Transport, string Process, string? Group, string? Note, string? SetBy = null, DateTime? SetAt = null)
{
    /// <summary>"776/udp".</summary>
    public string Where => $"{Port.ToString(CultureInfo.InvariantCulture)}/{Transport.ToText()}";

    /// <summary>"776/udp rpc.statd in group nfs".</summary>
    public string Describe() => $"{Where} {Process}{(Group is null ? "" : $" in group {Group}")}";
}

/// <summary>
/// The expectations file kept in git: one expectation a line, "PORT/TRANSPORT PROCESS [group=GROUP] [# note]", blank
/// lines and lines starting with "#" ignored. Written sorted, so that a diff shows what changed.
/// </summary>
public static class ExpectationFile
{
    public const string Header = """
        # porthistory expectations: what runs where on purpose.
        # PORT/TRANSPORT  PROCESS (name, program, systemd unit or service)  [group=HOST_GROUP]  [# note]
        # Apply with: porthistory expect import FILE   (replaces the server's set; --dry-run shows the changes first)
        """;

    public static string Write(IEnumerable<ExpectationView> expectations)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var e in expectations.OrderBy(e => e.Port).ThenBy(e => e.Transport).ThenBy(e => e.Process, StringComparer.Ordinal)
                     .ThenBy(e => e.Group, StringComparer.Ordinal))
        {
            text.Append(e.Where).Append(' ').Append(e.Process);
            if (e.Group is not null) text.Append(" group=").Append(e.Group);
            if (e.Note is { Length: > 0 } note) text.Append(" # ").Append(note);
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Every line read, or a usage error naming the first bad line.</summary>
    public static IReadOnlyList<ExpectationView> Parse(string text, string fileName)
    {
        var expectations = new List<ExpectationView>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            try
            {
                expectations.Add(ParseLine(trimmed));
            }
            catch (UsageException e)
            {
                throw new UsageException($"{fileName}:{i + 1}: {e.Message}");
            }
        }

        return expectations;
    }

    /// <summary>"776/udp" into a port and a transport.</summary>
    public static (int Port, TransportProtocol Transport) ParseWhere(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0) throw new UsageException($"expected PORT/TRANSPORT such as 776/udp, got \"{text}\"");
        return (CliOptions.ParsePort(text[..slash]), CliOptions.ParseTransport(text[(slash + 1)..])!.Value);
    }

    private static ExpectationView ParseLine(string line)
    {
        var hash = line.IndexOf(" #", StringComparison.Ordinal);
        var note = hash < 0 ? null : line[(hash + 2)..].Trim();
        var fields = (hash < 0 ? line : line[..hash]).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2) throw new UsageException("expected PORT/TRANSPORT PROCESS [group=GROUP] [# note]");
        var (port, transport) = ParseWhere(fields[0]);
        string? group = null;
        foreach (var field in fields[2..])
        {
            if (!field.StartsWith("group=", StringComparison.Ordinal) || field.Length == "group=".Length || group is not null)
            {
                throw new UsageException($"unexpected \"{field}\": after the process only one group=GROUP and a # note may follow");
            }

            group = field["group=".Length..];
        }

        return new ExpectationView(port, transport, fields[1], group, note is { Length: > 0 } ? note : null);
    }
}
