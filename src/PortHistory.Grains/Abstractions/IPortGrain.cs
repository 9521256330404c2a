using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// One grain per port number (0-65535): the port's registry history on every transport and what fleets observe
/// on it. Answers single-port questions from memory.
/// </summary>
[Alias("porthistory.IPortGrain")]
public interface IPortGrain : IGrainWithIntegerKey
{
    /// <summary>What held the port in the newest edition, or in the one in effect on the query's date.</summary>
    [Alias("GetPort"), ReadOnly]
    Task<Immutable<GetPortResponse>> GetPortAsync(PortQuery query);

    /// <summary>Every version per transport (one transport, or all that were ever listed).</summary>
    [Alias("GetTimeline"), ReadOnly]
    Task<Immutable<GetTimelineResponse>> GetTimelineAsync(Transport transport);

    /// <summary>
    /// Stores the port's timelines for a history generation that is not committed yet. They become visible when
    /// the generation is committed; a generation in <paramref name="abortedGenerations"/> never will be.
    /// </summary>
    [Alias("StageRegistry")]
    Task StageRegistryAsync(long generation, long[] abortedGenerations, Immutable<byte[]> timelines);

    /// <summary>Observed usage and verdicts; host ids only when asked for (admins).</summary>
    [Alias("GetObserved"), ReadOnly]
    Task<Immutable<GetObservedResponse>> GetObservedAsync(Transport transport, bool includeHostRefs);

    /// <summary>New journal entries for this port, one delta per writer (the ingest path delivers them after they are durable).</summary>
    [Alias("Observe")]
    Task ObserveAsync(Immutable<ObservationDelta[]> deltas);

    /// <summary>
    /// The registry changed under this port's verdicts (in <paramref name="generation"/>): judges again, and rewrites its
    /// rows of the observations index, once this silo holds that generation.
    /// </summary>
    [Alias("RefreshVerdictsAfter")]
    Task RefreshVerdictsAsync(long generation);

    /// <summary>The port's expectations changed (in <paramref name="version"/>): judges again once this silo holds that version.</summary>
    [Alias("RefreshExpectations")]
    Task RefreshExpectationsAsync(long version);

    /// <summary>The committed and staged generations this grain holds (for diagnostics and tests).</summary>
    [Alias("GetRegistryGenerations"), ReadOnly]
    Task<RegistryGenerations> GetRegistryGenerationsAsync();
}
