namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Journal rows of one writer for one port that the port has not checkpointed, up to <paramref name="LastSeq"/>;
/// <paramref name="WriterGone"/> when their writer's process is gone, otherwise they have waited a sweep interval.
/// </summary>
public sealed record UnappliedRows(int Port, int Writer, long LastSeq, bool WriterGone);

/// <summary>The journal rows no port grain has checkpointed that no delivery may bring to their grains any more.</summary>
public interface IOrphanedJournal
{
    /// <summary>
    /// Per port and writer: the rows of writers silent longer than <paramref name="writerTimeout"/>, and those of the
    /// writers in <paramref name="marks"/> at or below their mark (the sequence numbers a sweep ago: rows that have
    /// waited that long for a checkpoint).
    /// </summary>
    Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, IReadOnlyDictionary<int, long> marks, CancellationToken cancellationToken);

    /// <summary>The cluster declared a silo dead: its writers count as gone from now on, whatever their last heartbeat.</summary>
    Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken);
}
