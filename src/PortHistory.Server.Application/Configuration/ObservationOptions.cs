using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>
/// How port grains keep their observations: checkpoints, and the process → service table verdicts use. The verdict
/// thresholds of the same section bind to <see cref="PortHistory.Observations.VerdictOptions"/>.
/// </summary>
public sealed class ObservationOptions
{
    public const string Section = "PortHistory:Verdicts";

    /// <summary>A process-services table to use instead of the one shipped (same JSON shape).</summary>
    public string? ProcessServicesFile { get; set; }

    /// <summary>A port grain writes its state after this many applied sightings…</summary>
    [Range(1, int.MaxValue)]
    public int CheckpointEvery { get; set; } = 20_000;

    /// <summary>…or this long after the first one not written, whichever comes first.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(15);
}
