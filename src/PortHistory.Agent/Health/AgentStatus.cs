using System.Globalization;
using System.Text;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent.Health;

/// <summary>
/// The running agent's figures, kept in Prometheus text format: the same text is the state file in the spool directory
/// (read by <c>porthistory-agent status</c>) and the optional --metrics-file for node_exporter's textfile collector.
/// </summary>
/// <param name="LastScanAt">Null until a scan has succeeded.</param>
/// <param name="LastAcknowledgedAt">When the server last acknowledged a batch or report; null if it never has.</param>
/// <param name="DroppedReports">Host reports the spool dropped (full) in this reporting epoch, sent to the server with later reports.</param>
public sealed record AgentStatus(
    DateTimeOffset? LastScanAt, DateTimeOffset? LastAcknowledgedAt, SpoolFigures Spool, long DroppedReports = 0, long DroppedReportBytes = 0)
{
    /// <summary>The state file's name in the spool directory.</summary>
    public const string FileName = "status.prom";

    /// <summary>More than the text can ever need; a larger file is not read.</summary>
    private const int MaxFileBytes = 64 * 1024;

    private static readonly (string Name, string Type, string Help)[] Metrics =
    [
        ("porthistory_agent_last_scan_timestamp_seconds", "gauge", "Unix time of the last successful scan (0: none yet)."),
        ("porthistory_agent_last_ack_timestamp_seconds", "gauge", "Unix time the server last acknowledged a batch (0: never)."),
        ("porthistory_agent_spool_records", "gauge", "Batches in the spool waiting to be sent."),
        ("porthistory_agent_spool_bytes", "gauge", "Size of the spool's segment files."),
        ("porthistory_agent_dropped_records_total", "counter", "Oldest batches dropped to keep the spool within --spool-max-bytes."),
        ("porthistory_agent_corrupt_records_total", "counter", "Spool records lost to damage on disk."),
        ("porthistory_agent_expired_sightings_total", "counter", "Sightings older than the server accepts, removed from the spool unsent."),
        ("porthistory_agent_dropped_reports_total", "counter", "Host reports dropped to keep the spool within --spool-max-bytes, in this reporting epoch."),
        ("porthistory_agent_dropped_report_bytes_total", "counter", "Bytes of the host reports dropped, in this reporting epoch."),
    ];

    /// <summary>The figures a status file written before differential reporting has; the others read as 0.</summary>
    private const int RequiredMetrics = 7;

    public string ToPrometheusText()
    {
        // Written from integers: a double's default formatting would round counts past 15 digits.
        string[] values =
        [
            Seconds(LastScanAt), Seconds(LastAcknowledgedAt), Integer(Spool.Records), Integer(Spool.Bytes), Integer(Spool.DroppedRecords),
            Integer(Spool.CorruptRecords), Integer(Spool.ExpiredSightings), Integer(DroppedReports), Integer(DroppedReportBytes),
        ];
        var text = new StringBuilder();
        for (var i = 0; i < Metrics.Length; i++)
        {
            var (name, type, help) = Metrics[i];
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n{name} {values[i]}\n");
        }

        return text.ToString();
    }

    /// <summary>Reads figures back from <see cref="ToPrometheusText"/>'s format; null when a figure is missing or unreadable.</summary>
    public static AgentStatus? Parse(string text)
    {
        var values = new Dictionary<string, (double Value, string Text)>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && Metrics.Any(m => m.Name == parts[0])
                && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= 0)
            {
                values[parts[0]] = (value, parts[1]);
            }
        }

        if (Metrics.Take(RequiredMetrics).Any(metric => !values.ContainsKey(metric.Name))) return null;
        double Get(int i) => values.TryGetValue(Metrics[i].Name, out var value) ? value.Value : 0;
        // Counts are read as integers when they are written so (exact past 2^53), else from the number as a double.
        long Count(int i) => values.TryGetValue(Metrics[i].Name, out var value)
            && long.TryParse(value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var exact)
                ? exact
                : (long)Math.Min(Get(i), long.MaxValue);
        return new AgentStatus(Time(Get(0)), Time(Get(1)), new SpoolFigures(Count(2), Count(3), Count(4), Count(5), Count(6)), Count(7), Count(8));
    }

    public void WriteTo(string path) => DurableFile.Replace(path, Encoding.UTF8.GetBytes(ToPrometheusText()));

    /// <summary>Null when the file is missing, too large, or not a status.</summary>
    public static AgentStatus? Read(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            if (file.Length > MaxFileBytes) return null;
            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            return Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The status subcommand's output.</summary>
    public void Describe(TextWriter output, DateTimeOffset now)
    {
        output.WriteLine($"last scan:              {When(LastScanAt, now)}");
        output.WriteLine($"last acknowledged send: {When(LastAcknowledgedAt, now)}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"spool:                  {Spool.Records} records, {Spool.Bytes} bytes"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dropped records:        {Spool.DroppedRecords} (oldest, to stay within --spool-max-bytes)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"corrupt records:        {Spool.CorruptRecords}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"expired sightings:      {Spool.ExpiredSightings} (older than the server accepts)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"dropped reports:        {DroppedReports}, {DroppedReportBytes} bytes (host reports, in this reporting epoch; the server is told)"));
    }

    private static string When(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is not { } time) return "never";
        var ago = now - time;
        var agoText = ago < TimeSpan.Zero ? "in the future" : ago.TotalSeconds < 120 ? $"{ago.TotalSeconds:0} s ago"
            : ago.TotalHours < 2 ? $"{ago.TotalMinutes:0} min ago" : ago.TotalDays < 2 ? $"{ago.TotalHours:0.#} h ago" : $"{ago.TotalDays:0.#} days ago";
        return string.Create(CultureInfo.InvariantCulture, $"{time.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z ({agoText})");
    }

    /// <summary>Unix seconds to the millisecond; 0 for never.</summary>
    private static string Seconds(DateTimeOffset? at)
    {
        if (at is not { } time) return "0";
        var milliseconds = time.ToUnixTimeMilliseconds();
        return milliseconds % 1000 == 0
            ? Integer(milliseconds / 1000)
            : string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000}.{milliseconds % 1000:D3}");
    }

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>0 (and anything beyond DateTimeOffset's range) means never. Written to the millisecond, read back to the millisecond.</summary>
    private static DateTimeOffset? Time(double seconds) =>
        seconds > 0 && seconds < 253_402_300_799 ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000)) : null;
}
