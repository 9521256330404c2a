using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>Differential reporting and host liveness: heartbeats, when a silent host turns stale and is retired, bounds.</summary>
public sealed class HostReportingOptions
{
    public const string Section = "PortHistory:Hosts";

    /// <summary>How often agents send a heartbeat when nothing changed (their --heartbeat); liveness is counted in these periods.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A host not heard for this many heartbeat periods is stale: its sockets are kept, counted as stale.</summary>
    [Range(1, 1000)]
    public int StaleAfterPeriods { get; set; } = 3;

    /// <summary>A host silent this long is retired: its sockets are removed and its credentials revoked.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan RetireAfter { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// A host's last-seen time is written when it moved by more than this (in batches): heartbeats themselves write
    /// nothing. Also how late a restarted cluster may notice a host that went silent meanwhile.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LastSeenWriteInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A host's grain answers one of its heartbeats at least this often; the silo answers the others from memory when
    /// they would change nothing but the time the host was heard. It keeps the grain active (idle grains are collected
    /// after the silo's grain collection age) and its own record of that time no older than this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan GrainHeartbeatInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often each silo looks for its silent hosts, and writes last-seen times due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often one silo of the cluster looks in PostgreSQL for silent hosts no silo holds (after a restart) and hosts to retire.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan StoredSweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sockets one report (a snapshot, or one change's additions and removals) may carry.</summary>
    [Range(1, 1_000_000)]
    public int MaxSocketsPerReport { get; set; } = 10_000;

    /// <summary>
    /// Reports that load a host or change its set, in flight per silo at once. Beyond it (many agents reconnecting after
    /// a restart) agents are told to come back later (ResourceExhausted with retry-after) instead of piling up.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxConcurrentChanges { get; set; } = 512;

    /// <summary>How long an agent told to come back later waits at most (each gets a random share of it, so they spread out).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan StaleAfter => HeartbeatPeriod * StaleAfterPeriods;
}
