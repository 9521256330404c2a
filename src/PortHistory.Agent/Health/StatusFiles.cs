using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Health;

/// <summary>
/// Keeps the running agent's figures and writes them, after every scan and send, to the status file in the spool
/// directory and to the metrics file if there is one. The times carry over from the last run's status file, so that
/// `status` still says when the server last answered.
/// </summary>
public sealed class StatusFiles
{
    private readonly Lock _gate = new();
    private readonly string[] _paths;
    private readonly Func<SpoolFigures> _spool;
    private readonly Func<SpoolDrops> _reportDrops;
    private readonly TextWriter _error;
    private DateTimeOffset? _lastScanAt;
    private DateTimeOffset? _lastAcknowledgedAt;

    /// <param name="spool">The spool's figures as of now.</param>
    /// <param name="reportDrops">Host reports the spool dropped in this reporting epoch.</param>
    public StatusFiles(string statusPath, string? metricsFile, Func<SpoolFigures> spool, Func<SpoolDrops> reportDrops, TextWriter error)
    {
        _paths = metricsFile is null ? [statusPath] : [statusPath, metricsFile];
        _spool = spool;
        _reportDrops = reportDrops;
        _error = error;
        if (AgentStatus.Read(statusPath) is { } previous) (_lastScanAt, _lastAcknowledgedAt) = (previous.LastScanAt, previous.LastAcknowledgedAt);
    }

    public AgentStatus Current
    {
        get
        {
            lock (_gate)
            {
                var drops = _reportDrops();
                return new AgentStatus(_lastScanAt, _lastAcknowledgedAt, _spool(), (long)Math.Min(drops.Reports, long.MaxValue),
                    (long)Math.Min(drops.Bytes, long.MaxValue));
            }
        }
    }

    public void ScannedAt(DateTimeOffset at)
    {
        lock (_gate) _lastScanAt = at;
    }

    public void AcknowledgedAt(DateTimeOffset at)
    {
        lock (_gate) _lastAcknowledgedAt = at;
    }

    /// <summary>Writes the figures to every file; a write that fails is reported, not fatal.</summary>
    public AgentStatus Publish()
    {
        lock (_gate)
        {
            var status = Current;
            foreach (var path in _paths)
            {
                try
                {
                    status.WriteTo(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _error.WriteLine($"cannot write {path}: {e.Message}");
                }
            }

            return status;
        }
    }
}
