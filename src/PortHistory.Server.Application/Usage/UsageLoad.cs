using System.Globalization;
using PortHistory.Contracts;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Application.Usage;

/// <summary>Why a row of a load was refused.</summary>
public sealed record UsageRowError(ulong Line, string Field, string Reason);

/// <summary>
/// The rows of one bulk load, checked as they arrive: a day that exists and is not in the future, a port, a known
/// transport, a process, host counts within bounds, no row twice. Bounded in rows and in errors kept.
/// </summary>
public sealed class UsageLoad(DateOnly today, Action? done = null) : IDisposable
{
    public const int MaxRows = 1_000_000;
    public const int MaxErrors = 100;
    public const int MaxHosts = 10_000_000;
    public static readonly DateOnly FirstDay = new(1970, 1, 1);

    private readonly Dictionary<(int Port, Transport Transport, ProcessKey Process), SortedDictionary<DateOnly, (int Hosts, int Reachable)>> _series = [];
    private readonly Dictionary<(DateOnly, int, Transport, ProcessKey), ulong> _lines = [];
    private ulong _ordinal;
    private Action? _done = done;

    public List<UsageRowError> Errors { get; } = [];

    public int Rows { get; private set; }

    public IReadOnlyDictionary<(int Port, Transport Transport, ProcessKey Process), SortedDictionary<DateOnly, (int Hosts, int Reachable)>> Series => _series;

    /// <returns>False once reading more is pointless (too many rows or errors).</returns>
    public bool Add(IEnumerable<UsageRow> rows)
    {
        foreach (var row in rows)
        {
            _ordinal++;
            var line = row.Line == 0 ? _ordinal : row.Line;
            if (Rows >= MaxRows)
            {
                Errors.Add(new UsageRowError(line, "rows", $"a load holds at most {MaxRows:N0} rows: split the file (by year, say)"));
                return false;
            }

            if (Check(row, line) is { } error)
            {
                Errors.Add(error);
                if (Errors.Count >= MaxErrors) return false;
                continue;
            }

            Rows++;
        }

        return true;
    }

    private UsageRowError? Check(UsageRow row, ulong line)
    {
        if (DayRefusal(row.Day, out var day) is { } badDay) return new(line, "day", badDay);
        if (day > today) return new(line, "day", $"{row.Day} is in the future (today is {UsageHistoryBuilder.Text(today)})");
        if (!row.HasPort) return new(line, "port", "is required (0-65535)");
        if (row.Port > 65535) return new(line, "port", $"must be 0-65535, got {row.Port}");
        if (row.Transport == Transport.Unspecified || !Enum.IsDefined(row.Transport)) return new(line, "transport", $"unknown transport {(int)row.Transport} (use tcp, udp, sctp or dccp)");
        if (WireText.Check(row.ProcessName, 256, required: true) is { } name) return new(line, "process_name", name);
        if (WireText.Check(row.Executable, 4096) is { } executable) return new(line, "executable", executable);
        if (row.Hosts > MaxHosts) return new(line, "hosts", $"at most {MaxHosts:N0}, got {row.Hosts}");
        if (row.Reachable > row.Hosts) return new(line, "reachable", $"{row.Reachable} is more than hosts ({row.Hosts})");
        var process = new ProcessKey(row.ProcessName.Trim(), row.Executable.Trim(), "", "");
        var transport = row.Transport;
        if (!_lines.TryAdd((day, (int)row.Port, transport, process), line))
        {
            return new(line, "day", $"a second row for {row.Day} {row.Port}/{transport.ToString().ToLowerInvariant()} {process.Name} (the first is line {_lines[(day, (int)row.Port, transport, process)]})");
        }

        var key = ((int)row.Port, transport, process);
        if (!_series.TryGetValue(key, out var days)) _series[key] = days = [];
        days[day] = ((int)row.Hosts, (int)row.Reachable);
        return null;
    }

    public void Dispose() => Interlocked.Exchange(ref _done, null)?.Invoke();

    /// <summary>Why a day from the wire is refused (not YYYY-MM-DD, or before anything was observed), or null; its text is not echoed.</summary>
    public static string? DayRefusal(string text, out DateOnly day)
    {
        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day)) return "not a day (YYYY-MM-DD)";
        return day < FirstDay ? $"{UsageHistoryBuilder.Text(day)} is before {UsageHistoryBuilder.Text(FirstDay)}" : null;
    }
}
