namespace PortHistory.Grains.Ports;

/// <summary>
/// When a port grain writes its observations: after <c>CheckpointEvery</c> applied sightings, or a while after the first
/// one not written (a timer that exists only while something is unwritten). Also the watermarks as last written,
/// the only ones that may be recorded for the compactor (the in-memory ones run ahead of the stored state).
/// </summary>
internal sealed class ObservationCheckpoints(int checkpointEvery, Func<IGrainTimer> startTimer)
{
    private int _unwritten;
    private IGrainTimer? _timer;

    public IReadOnlyDictionary<int, long> StoredWatermarks { get; private set; } = new Dictionary<int, long>();

    public bool HasUnwritten => _unwritten > 0;

    public bool Due => _unwritten >= checkpointEvery;

    public void Applied(int count)
    {
        if (count == 0) return;
        _unwritten += count;
        _timer ??= startTimer();
    }

    /// <summary>The state was written with these watermarks; returns how many applied sightings that covered.</summary>
    public int Stored(IReadOnlyDictionary<int, long> watermarks)
    {
        StoredWatermarks = new Dictionary<int, long>(watermarks);
        return _unwritten;
    }

    /// <summary>The checkpoint is complete for <paramref name="written"/> sightings (more may have arrived meanwhile).</summary>
    public void Completed(int written)
    {
        _unwritten -= Math.Min(_unwritten, written);
        if (_unwritten > 0 || _timer is null) return;
        _timer.Dispose();
        _timer = null;
    }
}
