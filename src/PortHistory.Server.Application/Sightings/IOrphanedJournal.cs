namespace PortHistory.Server.Application.Sightings;

/// <summary>Journal rows of one gone writer for one port that the port has not checkpointed, up to <paramref name="LastSeq"/>.</summary>
public sealed record UnappliedRows(int Port, int Writer, long LastSeq);

/// <summary>The journal rows of writers whose process is gone (no heartbeat) that no port grain has applied.</summary>
public interface IOrphanedJournal
{
    /// <summary>Per port and writer, for the writers silent longer than <paramref name="writerTimeout"/>.</summary>
    Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, CancellationToken cancellationToken);

    /// <summary>The cluster declared a silo dead: its writers count as gone from now on, whatever their last heartbeat.</summary>
    Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken);
}
