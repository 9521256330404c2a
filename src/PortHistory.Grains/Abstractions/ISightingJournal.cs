namespace PortHistory.Grains.Abstractions;

/// <summary>The journal as port grains see it: catching up past their watermarks, and recording checkpoints.</summary>
public interface ISightingJournal
{
    Task<IReadOnlyList<(int Writer, ObservationEntry Entry)>> ReadAfterAsync(int port, IReadOnlyDictionary<int, long> watermarks, CancellationToken cancellationToken);

    /// <summary>Called after the grain's state is written: the journal below the watermarks may go; the index gets the rows.</summary>
    Task RecordCheckpointAsync(int port, IReadOnlyDictionary<int, long> watermarks, IReadOnlyList<ObservationIndexRow> rows, CancellationToken cancellationToken);
}
