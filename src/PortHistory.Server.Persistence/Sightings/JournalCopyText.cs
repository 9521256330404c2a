using System.Globalization;
using System.Text;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>
/// Journal rows in COPY text format: one formatted line per sighting costs far less than a binary write per column.
/// </summary>
public static class JournalCopyText
{
    /// <summary>The columns of <see cref="AppendLine"/>, in its order.</summary>
    public const string Command = """
        COPY sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                               bind_scope, socket_state, process, executable, pid, username, privileged, container_id,
                               network_namespace, batch_id, program, systemd_unit, host_group)
        FROM STDIN
        """;

    public static StringBuilder AppendLine(StringBuilder line, int writer, long seq, ValidSighting s, string batchId)
    {
        line.Append(writer).Append('\t').Append(seq).Append('\t').Append(s.Port).Append('\t').Append((int)s.Transport).Append('\t')
            .Append((long)s.HostHash).Append('\t');
        Escape(line, s.HostRef).Append('\t')
            .Append(s.ObservedAt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append("+00\t")
            .Append((int)s.AddressFamily).Append('\t');
        Escape(line, s.LocalAddress).Append('\t').Append((int)s.BindScope).Append('\t').Append((int)s.State).Append('\t');
        Escape(line, s.Process).Append('\t');
        Escape(line, s.Executable).Append('\t').Append(s.Pid).Append('\t');
        Escape(line, s.User).Append('\t').Append(s.Privileged ? 't' : 'f').Append('\t');
        Escape(line, s.ContainerId).Append('\t');
        Escape(line, s.NetworkNamespace).Append('\t').Append(batchId).Append('\t');
        Escape(line, s.Program).Append('\t');
        Escape(line, s.SystemdUnit).Append('\t');
        return Escape(line, s.HostGroup).Append('\n');
    }

    /// <summary>COPY text format: backslash, tab, newline and carriage return are escaped; nothing else needs to be.</summary>
    public static StringBuilder Escape(StringBuilder line, string value)
    {
        if (value.AsSpan().IndexOfAny("\\\t\n\r") < 0) return line.Append(value);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => line.Append("\\\\"),
                '\t' => line.Append("\\t"),
                '\n' => line.Append("\\n"),
                '\r' => line.Append("\\r"),
                _ => line.Append(c),
            };
        }

        return line;
    }
}
