using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Hosts;

/// <summary>The host's stored row: read on the first call, written by commits at the version held, read again when another activation wrote it.</summary>
public sealed partial class HostGrain
{
    /// <summary>
    /// The stored row, read on the first call rather than at activation: when the silo is already reading as many rows
    /// as it allows (a restart storm), the call is refused with <see cref="HostsBusyException"/>, which the agent is
    /// told as retry-after. Refused at activation it would be logged by the runtime as a failed activation.
    /// </summary>
    private Task LoadedAsync()
    {
        if (_loading is { IsCompletedSuccessfully: true }) return Task.CompletedTask;
        if (_loading is { IsCompleted: false }) return _loading;
        return _loading = LoadAsync();
    }

    private async Task LoadAsync()
    {
        using var slot = pulse.TryActivate();
        if (slot is null)
        {
            DeactivateOnIdle();
            throw new HostsBusyException(TimeSpan.Zero);
        }

        var row = await Stored(() => store.LoadAsync(HostRef, CancellationToken.None));
        _stored = row is not null;
        _held = row ?? HostRecord.New(HostRef, clock.GetUtcNow().UtcDateTime);
        _lastHeard = _held.LastSeen;
    }

    private async Task<bool> CommitAsync(HostRecord next, List<ListenerDelta> changes, DateTime at)
    {
        var row = next with { Version = _held.Version + 1 };
        if (!await Stored(() => commits.CommitAsync(new HostCommit(row, _held.Version, [.. changes], at), CancellationToken.None))) return false;
        _held = row;
        _stored = true;
        pulse.Holds(_held);
        return true;
    }

    /// <summary>
    /// A database failure as an exception every caller can read (the driver's own does not cross a grain call): with
    /// whether it is worth another try, so that agents are told Unavailable rather than Internal.
    /// </summary>
    private async Task<T> Stored<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (PortStorageException.FromDatabase(e, $"host {HostRef}") is { } storage)
        {
            throw storage;
        }
    }

    private async Task ReloadAsync()
    {
        var row = await Stored(() => store.LoadAsync(HostRef, CancellationToken.None));
        _stored = row is not null;
        _held = row ?? HostRecord.New(HostRef, clock.GetUtcNow().UtcDateTime);
        pulse.Holds(_held);
        _scanAt = null;
        _scanSockets = [];
    }
}
