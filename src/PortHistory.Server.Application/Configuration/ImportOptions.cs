using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

public sealed class ImportOptions
{
    public const string Section = "PortHistory:Import";

    /// <summary>Port grains staged at once while applying a generation.</summary>
    [Range(1, 4096)]
    public int StagingConcurrency { get; set; } = 64;

    /// <summary>Largest edition file accepted, in bytes.</summary>
    [Range(1L, 1L << 31)]
    public long MaxEditionBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// After a submission, while other uploads are still being received or parsed, the importer looks again this
    /// often before applying, so that they join the same generation (up to <see cref="MaxBatchWait"/>).
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(300);

    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The only directory ImportEdition may read a server_path from (files below it, links resolved). Unset: imports by
    /// path are refused and editions are uploaded instead.
    /// </summary>
    public string? ImportDirectory { get; set; }

    /// <summary>Apply editions left pending by an earlier run as soon as the server starts.</summary>
    public bool ResumePending { get; set; } = true;
}
