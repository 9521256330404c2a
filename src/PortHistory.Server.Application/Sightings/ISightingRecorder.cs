
namespace PortHistory.Server.Application.Sightings;

/// <summary>The outcome of one batch: how many sightings were recorded, and whether they had been recorded before.</summary>
public sealed record IngestResult(int Accepted, bool Duplicate);

/// <summary>Records a validated batch; completes once it is durable.</summary>
public interface ISightingRecorder
{
    Task<IngestResult> SubmitAsync(Guid batchId, IReadOnlyList<ValidSighting> sightings, int rejected, CancellationToken cancellationToken);
}
