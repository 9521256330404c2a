using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>Limits and intervals of the sighting path: validation, the journal, delivery to the grains, compaction.</summary>
public sealed class SightingOptions
{
    public const string Section = "PortHistory:Sightings";

    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 5000;

    /// <summary>Batches one Report stream takes (its answer holds a result for each).</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchesPerStream { get; set; } = 1000;

    /// <summary>Sightings observed further ahead than this (clock skew) are refused.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sightings older than this are refused.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often accepted sightings are handed to the port grains.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan DispatchWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most sightings written in one journal transaction (concurrent batches share one commit).</summary>
    [Range(1, 1_000_000)]
    public int MaxRowsPerFlush { get; set; } = 20_000;

    /// <summary>Journal writers per process, each with its own sequence (COPY streams run side by side).</summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 4;

    /// <summary>
    /// Memory that sightings waiting for delivery to the grains may take, in bytes (counted from their text). Beyond it
    /// they are let go, and each port they were for is told to read them from the journal instead.
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long MaxPendingDeliveryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>A journal writer silent (no heartbeat) this long belongs to a process that is gone.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan WriterTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often journal rows that every port has checkpointed are deleted.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the journal is searched for rows of gone writers that no grain has applied.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromSeconds(30);
}
