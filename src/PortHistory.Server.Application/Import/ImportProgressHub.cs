using System.Collections.Concurrent;
using System.Threading.Channels;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Import;

/// <summary>What the importer reports about the editions it is applying.</summary>
public sealed record ImportEvent(ImportStage Stage, string Message, int Done = 0, int Total = 0, long Generation = 0, Exception? Failure = null);

/// <summary>Lets each ImportEdition call follow the editions it submitted while the importer applies them.</summary>
public sealed class ImportProgressHub(PortHistoryMetrics metrics)
{
    private readonly ConcurrentDictionary<Watch, byte> _watches = new();

    public Watch Follow(string editionId)
    {
        var watch = new Watch(this, editionId);
        _watches[watch] = 0;
        return watch;
    }

    public void Publish(IReadOnlyCollection<string> editionIds, ImportEvent importEvent)
    {
        metrics.ImportProgressed(importEvent.Stage, importEvent.Done, importEvent.Total);
        foreach (var watch in _watches.Keys)
        {
            if (editionIds.Contains(watch.EditionId)) watch.Events.Writer.TryWrite(importEvent);
        }
    }

    public sealed class Watch(ImportProgressHub hub, string editionId) : IDisposable
    {
        public string EditionId { get; } = editionId;

        public Channel<ImportEvent> Events { get; } = Channel.CreateUnbounded<ImportEvent>(new UnboundedChannelOptions { SingleReader = true });

        public void Dispose() => hub._watches.TryRemove(this, out _);
    }
}
