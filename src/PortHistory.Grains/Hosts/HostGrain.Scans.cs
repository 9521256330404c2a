using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Hosts;

/// <summary>Hosts whose agents send every socket at every scan (full reports): the grain derives what appeared and what went.</summary>
public sealed partial class HostGrain
{
    // A full-report agent's scan in progress (batches of one scan share its time): removals wait until the scan is complete.
    private DateTime? _scanAt;
    private HostSocketEntry[] _scanSockets = [];

    public async Task ReportScanAsync(HostScanInput input)
    {
        await LoadedAsync();
        var batch = HostSocketSet.Normalize(input.Sockets);
        var held = _held with { Privileged = input.Privileged, HostGroup = input.HostGroup, EpochId = 0, Seq = 0, SetHash = SocketSetHash.Empty };
        HostSocketEntry[] next;
        if (_scanAt is { } scanAt && input.ObservedAt < scanAt)
        {
            // A batch of an earlier scan, late: the host is alive, its sockets were seen since.
            next = _held.Sockets;
        }
        else if (_scanAt == input.ObservedAt)
        {
            _scanSockets = HostSocketSet.Normalize(_scanSockets.Concat(batch));
            next = HostSocketSet.Normalize(_held.Sockets.Concat(batch));
        }
        else
        {
            // A new scan: the previous one is complete, so what it did not list is gone (after an activation the previous
            // scan is not known: nothing is removed until this one is complete).
            var kept = _scanAt is null ? _held.Sockets : _scanSockets;
            _scanAt = input.ObservedAt;
            _scanSockets = batch;
            next = HostSocketSet.Normalize(kept.Concat(batch));
        }

        if (!await ChangeAsync(held with { LastSeen = input.ReceivedAt }, next, input.ReceivedAt, Earlier(input.ObservedAt, input.ReceivedAt)))
        {
            // Another activation wrote the row: this one starts again from what is stored, and the next scan re-derives.
            await ReloadAsync();
        }
    }
}
