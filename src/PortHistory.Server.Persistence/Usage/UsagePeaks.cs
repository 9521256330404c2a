namespace PortHistory.Server.Persistence.Usage;

/// <summary>
/// The busiest day of each lifetime: a process's hosts on a day are every earlier row added up plus the hosts that
/// started that day. Only days with rows can beat the days before them, so per process the hosts at @first are added
/// up once (months before its month, then its days) and the days from @first to @day run on from there.
/// </summary>
internal static class UsagePeaks
{
    /// <summary>Raises the peaks from the days @first to @day (both included), of every process with rows there.</summary>
    public const string FromDays = Head + "FROM usage_days WHERE day >= @first AND day <= @day AND process_id <> 0" + Tail;

    /// <summary>The same for the processes given (@ports, @transports, @processes) only.</summary>
    public const string FromDaysOf = Head + """
        FROM usage_days WHERE day >= @first AND day <= @day AND process_id <> 0
            AND (port, transport, process_id) IN (SELECT * FROM unnest(@ports, @transports, @processes))
        """ + Tail;

    private const string Head = """
        WITH daily AS (
            SELECT port, transport, process_id, day, sum(added) AS added, sum(removed) AS removed

        """;

    private const string Tail = """

            GROUP BY 1, 2, 3, 4),
        base AS (
            SELECT k.port, k.transport, k.process_id,
                coalesce((SELECT sum(m.added - m.removed) FROM usage_months m
                    WHERE m.port = k.port AND m.transport = k.transport AND m.process_id = k.process_id AND m.month < date_trunc('month', @first::timestamp)), 0)
                + coalesce((SELECT sum(d.added - d.removed) FROM usage_days d
                    WHERE d.port = k.port AND d.transport = k.transport AND d.process_id = k.process_id
                    AND d.day >= date_trunc('month', @first::timestamp) AND d.day < @first), 0) AS hosts
            FROM (SELECT DISTINCT port, transport, process_id FROM daily) k),
        counted AS (
            SELECT d.port, d.transport, d.process_id, d.day, b.hosts + d.added
                + coalesce(sum(d.added - d.removed) OVER (PARTITION BY d.port, d.transport, d.process_id ORDER BY d.day
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS hosts
            FROM daily d JOIN base b USING (port, transport, process_id)),
        best AS (
            SELECT DISTINCT ON (port, transport, process_id) port, transport, process_id, hosts, day FROM counted
            ORDER BY port, transport, process_id, hosts DESC, day)
        UPDATE usage_lifetimes l SET peak_hosts = b.hosts, peak_day = b.day FROM best b
        WHERE l.port = b.port AND l.transport = b.transport AND l.process_id = b.process_id AND b.hosts > l.peak_hosts
        """;
}
