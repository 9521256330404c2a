using System.Runtime.CompilerServices;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Sources;

/// <summary>Reads edition directories and edition files into a source that answers offline.</summary>
public delegate OfflineRegistrySource OfflineEditionLoader(IReadOnlyList<string> directories, IReadOnlyList<string> files);

/// <summary>Answers from edition files on this machine: every file is parsed and the history built in memory.</summary>
public sealed class OfflineRegistrySource : IRegistrySource
{
    private readonly RegistryHistory _history;

    public OfflineRegistrySource(RegistryHistory history) => _history = history;

    public RegistryHistory History => _history;

    /// <summary>
    /// Reads every file named and every file in the directories named (PROVENANCE/README files and dot-files are
    /// skipped). One malformed file fails the whole load: a history silently missing an edition would mislead.
    /// </summary>
    public static OfflineRegistrySource Load(IReadOnlyList<string> directories, IReadOnlyList<string> files)
    {
        var paths = new List<string>();
        foreach (var directory in directories)
        {
            if (!Directory.Exists(directory)) throw new UsageException($"editions directory not found: {directory}");
            paths.AddRange(Directory.EnumerateFiles(directory).Where(IsEditionFile).Order(StringComparer.Ordinal));
        }

        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new UsageException($"edition file not found: {file}");
            paths.Add(file);
        }

        if (paths.Count == 0) throw new UsageException("no edition files found");
        var editions = new RegistryEdition[paths.Count];
        var failures = new Exception?[paths.Count];
        Parallel.For(0, paths.Count, i =>
        {
            try
            {
                editions[i] = EditionReader.ReadFile(paths[i]);
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
        });

        // The first failing file in path order, so the same directory always reports the same error.
        if (failures.FirstOrDefault(f => f is not null) is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        try
        {
            return new OfflineRegistrySource(RegistryHistory.Build(editions));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public static bool IsEditionFile(string path)
    {
        var name = Path.GetFileName(path);
        return !name.StartsWith('.') &&
               !name.EndsWith(".md", StringComparison.OrdinalIgnoreCase) &&
               !name.Equals("README", StringComparison.OrdinalIgnoreCase);
    }

    public Task<IReadOnlyList<EditionOverview>> ListEditionsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<EditionOverview>>([.. _history.Editions.Concat(_history.LocalEditions).Select(EditionOverview.Of)]);

    public Task<IReadOnlyList<AssignmentTimeline>> GetTimelinesAsync(int port, TransportProtocol? transport, CancellationToken cancellationToken) =>
        Task.FromResult(transport is { } t ? [_history.Timeline(port, t)] : _history.Timelines(port));

    public Task<PortAnswer> GetPortAsync(int port, TransportProtocol? transport, DateOnly? asOf, CancellationToken cancellationToken)
    {
        var index = asOf is { } date ? _history.EditionIndexAsOf(date) : _history.Editions.Length - 1;
        var local = _history.LocalEntries(port, transport);
        if (index < 0) return Task.FromResult(new PortAnswer(port, PortNumberClasses.Of(port), null, []) { Local = local });
        var transports = transport is { } only ? [only] : TransportProtocols.All;
        var answers = transports.Select(t => _history.InEdition(port, t, index))
            .Where(s => transport is not null || TransportProtocols.ShownUnasked(s.Transport, s.Primary?.Status))
            // As the server answers: the records of the version in effect, as listed in its first edition.
            .Select(s => TransportAnswer.Of(s.Transport, s.Version))
            .ToList();
        return Task.FromResult(new PortAnswer(port, PortNumberClasses.Of(port), _history.EditionRefs[index], answers) { Local = local });
    }

    public Task<ServiceAnswer> FindServiceAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(new ServiceAnswer(name, _history.FindService(name), _history.RenameChain(name)));

    public Task<EditionDiff> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken) =>
        Task.FromResult(RegistryHistory.Diff(Resolve(from), Resolve(to), ports));

    public async IAsyncEnumerable<AssignmentInEffect> ListPortsAsync(PortSpan range, DateOnly? asOf, RecordStatus? status, TransportProtocol? transport,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var assignment in _history.ListPorts(range, asOf, status, transport))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return assignment;
        }

        await Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>An edition by id, by date (the edition in effect then), or a file to read on the spot.</summary>
    private RegistryEdition Resolve(string reference)
    {
        if (_history.FindEdition(reference) is { } byId) return byId;
        if (DateOnly.TryParseExact(reference, "yyyy-MM-dd", out var date))
        {
            var index = _history.EditionIndexAsOf(date);
            if (index >= 0) return _history.Editions[index];
        }

        if (File.Exists(reference)) return EditionReader.ReadFile(reference);
        var known = string.Join(", ", _history.Editions.Concat(_history.LocalEditions).Select(e => e.Id));
        throw new UsageException($"unknown edition \"{reference}\" (known: {known})");
    }
}
