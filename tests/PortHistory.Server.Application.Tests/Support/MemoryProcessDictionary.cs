using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Application.Tests.Support;

/// <summary>The process dictionary in memory: ids from 1 in the order processes are first named.</summary>
internal sealed class MemoryProcessDictionary : IProcessDictionary
{
    private readonly Dictionary<ProcessKey, int> _ids = [];
    private readonly List<ProcessKey> _keys = [];

    public ValueTask<int[]> IdsAsync(IReadOnlyList<ProcessKey> processes, CancellationToken cancellationToken)
    {
        lock (_ids)
        {
            return ValueTask.FromResult(processes.Select(p =>
            {
                if (_ids.TryGetValue(p, out var id)) return id;
                _keys.Add(p);
                return _ids[p] = _keys.Count;
            }).ToArray());
        }
    }

    public ValueTask<ProcessKey[]> KeysAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        lock (_ids)
        {
            return ValueTask.FromResult(ids.Select(id => id <= 0 ? new ProcessKey("", "", "", "") : _keys[id - 1]).ToArray());
        }
    }
}
