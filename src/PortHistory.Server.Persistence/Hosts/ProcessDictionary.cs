using System.Collections.Concurrent;
using Npgsql;
using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Persistence.Hosts;

/// <summary>
/// The processes table, with what this silo looked up kept in memory both ways: a fleet runs a few thousand distinct
/// processes, so after the first reports nearly every lookup is a hit. Ids are never reused.
/// </summary>
public sealed class ProcessDictionary(NpgsqlDataSource dataSource) : IProcessDictionary
{
    /// <summary>Ids kept in memory at most; beyond it the cache starts over (a hostile fleet can name any number of processes).</summary>
    private const int Kept = 200_000;

    private readonly ConcurrentDictionary<ProcessKey, int> _ids = new();
    private readonly ConcurrentDictionary<int, ProcessKey> _keys = new();

    public async ValueTask<int[]> IdsAsync(IReadOnlyList<ProcessKey> processes, CancellationToken cancellationToken)
    {
        var ids = new int[processes.Count];
        List<ProcessKey>? missing = null;
        for (var i = 0; i < ids.Length; i++)
        {
            if (!_ids.TryGetValue(processes[i], out ids[i])) (missing ??= []).Add(processes[i]);
        }

        if (missing is null) return ids;
        var added = await AddAsync([.. missing.Distinct()], cancellationToken);
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] == 0) ids[i] = added[processes[i]];
        }

        return ids;
    }

    public async ValueTask<ProcessKey[]> KeysAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        var keys = new ProcessKey[ids.Count];
        List<int>? missing = null;
        for (var i = 0; i < keys.Length; i++)
        {
            // 0 and below name no process: a host's presence on a port, whatever runs there.
            if (ids[i] <= 0) keys[i] = new ProcessKey("", "", "", "");
            else if (!_keys.TryGetValue(ids[i], out keys[i])) (missing ??= []).Add(ids[i]);
        }

        if (missing is null) return keys;
        await using (var command = dataSource.CreateCommand("SELECT process_id, name, executable, program, systemd_unit FROM processes WHERE process_id = ANY(@ids)"))
        {
            command.Parameters.AddWithValue("ids", missing.Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) Remember(reader.GetInt32(0), new ProcessKey(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        for (var i = 0; i < keys.Length; i++)
        {
            if (ids[i] > 0 && !_keys.TryGetValue(ids[i], out keys[i])) throw new InvalidDataException($"no process with id {ids[i]}");
        }

        return keys;
    }

    /// <summary>
    /// Adds the processes not stored yet (sorted: concurrent silos lock the unique index in the same order) and returns
    /// every id. A process another silo adds at the same moment is neither added here nor visible to this statement's
    /// snapshot: the statement is run again, and then sees it.
    /// </summary>
    private async Task<Dictionary<ProcessKey, int>> AddAsync(ProcessKey[] processes, CancellationToken cancellationToken)
    {
        Array.Sort(processes, (a, b) => string.CompareOrdinal($"{a.Name}\0{a.Executable}\0{a.Program}\0{a.SystemdUnit}", $"{b.Name}\0{b.Executable}\0{b.Program}\0{b.SystemdUnit}"));
        var found = new Dictionary<ProcessKey, int>();
        for (var attempt = 0; attempt < 3 && found.Count < processes.Length; attempt++)
        {
            var wanted = processes.Where(p => !found.ContainsKey(p)).ToArray();
            await using var command = dataSource.CreateCommand("""
                WITH wanted AS (SELECT * FROM unnest(@names, @executables, @programs, @units, @digests)
                                    AS w(name, executable, program, systemd_unit, identity_digest)),
                     added AS (INSERT INTO processes (name, executable, program, systemd_unit, identity_digest) SELECT * FROM wanted
                               ON CONFLICT (identity_digest) DO NOTHING
                               RETURNING process_id, name, executable, program, systemd_unit)
                SELECT process_id, name, executable, program, systemd_unit FROM added
                UNION ALL
                SELECT p.process_id, p.name, p.executable, p.program, p.systemd_unit FROM processes p JOIN wanted w USING (identity_digest)
                """);
            command.Parameters.AddWithValue("names", wanted.Select(p => p.Name).ToArray());
            command.Parameters.AddWithValue("executables", wanted.Select(p => p.Executable).ToArray());
            command.Parameters.AddWithValue("programs", wanted.Select(p => p.Program).ToArray());
            command.Parameters.AddWithValue("units", wanted.Select(p => p.SystemdUnit).ToArray());
            command.Parameters.AddWithValue("digests", wanted.Select(Digest).ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = new ProcessKey(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4));
                found[key] = reader.GetInt32(0);
                Remember(found[key], key);
            }
        }

        if (found.Count < processes.Length) throw new InvalidDataException($"{processes.Length - found.Count} process(es) were neither added nor found");
        return found;
    }

    /// <summary>The identity's digest: SHA-256 of the four fields, each preceded by its length (no text can fake a boundary).</summary>
    private static byte[] Digest(ProcessKey key)
    {
        var text = string.Concat(
            $"{key.Name.Length}:{key.Name}", $"{key.Executable.Length}:{key.Executable}", $"{key.Program.Length}:{key.Program}",
            $"{key.SystemdUnit.Length}:{key.SystemdUnit}");
        return System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
    }

    private void Remember(int id, ProcessKey key)
    {
        if (_ids.Count >= Kept)
        {
            _ids.Clear();
            _keys.Clear();
        }

        _ids[key] = id;
        _keys[id] = key;
    }
}
