namespace PortHistory.Server.Persistence.Usage;

/// <summary>
/// The busiest day of each lifetime: a process's hosts on a day are every earlier row added up (months before that
/// day's month, then its days) plus the hosts that started that day. Only days with rows can beat the days before them.
/// </summary>
internal static class UsagePeaks
{
    /// <summary>Raises the peaks from the days @first to @day (both included).</summary>
    public const string FromDays = """
        WITH touched AS (
            SELECT port, transport, process_id, day, sum(added) AS added FROM usage_days
            WHERE day >= @first AND day <= @day AND process_id <> 0 GROUP BY 1, 2, 3, 4),
        counted AS (
            SELECT t.port, t.transport, t.process_id, t.day, t.added
                + coalesce((SELECT sum(m.added - m.removed) FROM usage_months m
                    WHERE m.port = t.port AND m.transport = t.transport AND m.process_id = t.process_id AND m.month < date_trunc('month', t.day)), 0)
                + coalesce((SELECT sum(d.added - d.removed) FROM usage_days d
                    WHERE d.port = t.port AND d.transport = t.transport AND d.process_id = t.process_id
                    AND d.day >= date_trunc('month', t.day) AND d.day < t.day), 0) AS hosts
            FROM touched t),
        best AS (
            SELECT DISTINCT ON (port, transport, process_id) port, transport, process_id, hosts, day FROM counted
            ORDER BY port, transport, process_id, hosts DESC, day)
        UPDATE usage_lifetimes l SET peak_hosts = b.hosts, peak_day = b.day FROM best b
        WHERE l.port = b.port AND l.transport = b.transport AND l.process_id = b.process_id AND b.hosts > l.peak_hosts
        """;
}
