namespace PortHistory.Server.Application.Hosts;

/// <summary>A process as host rows and listener changes name it by id: name, executable, program and unit, all as reported.</summary>
public readonly record struct ProcessKey(string Name, string Executable, string Program, string SystemdUnit);

/// <summary>
/// Process identities stored once, each with a small id (host rows and listener changes hold the id). Ids never change
/// and are never reused, so every silo may keep what it looked up.
/// </summary>
public interface IProcessDictionary
{
    /// <summary>The ids of the processes, in their order; those never seen are added.</summary>
    ValueTask<int[]> IdsAsync(IReadOnlyList<ProcessKey> processes, CancellationToken cancellationToken);

    /// <summary>The processes of the ids, in their order.</summary>
    ValueTask<ProcessKey[]> KeysAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken);
}
