using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// After the load: the server holds what the simulated agents hold. Every host's set (count, epoch, seq and the
/// digest of the sockets GetHost lists), no host left on a RESYNC, and for a sample of ports the hosts the port
/// grains count listening on each transport.
/// </summary>
internal static class FleetCheck
{
    public static async Task<bool> RunAsync(TextWriter output, ServerProcess server, FleetCatalog catalog, IReadOnlyList<FleetHost> hosts)
    {
        var client = new Hosts.HostsClient(server.Channel);
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForEachAsync(hosts, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (host, _) =>
        {
            var held = await client.GetHostAsync(new GetHostRequest { HostRef = host.Ref });
            var digest = SocketSetHash.Of(held.Sockets.Select(s => s.Socket));
            var model = SocketSetHash.Of(host.Kinds.Select(k => catalog[k]));
            if (held.Host.Sockets != host.Kinds.Count || held.Host.Epoch != host.Epoch || held.Host.Seq != host.Seq || digest != host.Hash || model != host.Hash)
            {
                wrong.Enqueue($"{host.Ref}: server {held.Host.Sockets} sockets, epoch {held.Host.Epoch:x16} seq {held.Host.Seq} digest {digest}; " +
                    $"simulator {host.Kinds.Count} sockets, epoch {host.Epoch:x16} seq {host.Seq} digest {host.Hash} (of its set {model})");
            }
        });
        var stuck = hosts.Where(h => h.LastOutcome is not (HostReportOutcome.Applied or HostReportOutcome.Duplicate)).ToList();
        output.WriteLine($"check: {hosts.Count - wrong.Count:N0} of {hosts.Count:N0} hosts hold the simulator's set (sockets, epoch, seq, digest of GetHost's sockets): {(wrong.IsEmpty ? "PASS" : "FAIL")}");
        foreach (var line in wrong.Take(5)) output.WriteLine($"  {line}");
        output.WriteLine($"check: hosts whose last answer was not APPLIED or DUPLICATE: {stuck.Count}: {(stuck.Count == 0 ? "PASS" : "FAIL")}");
        foreach (var host in stuck.Take(5)) output.WriteLine($"  {host.Ref}: {host.LastOutcome}");

        var observedRight = await ObservedAsync(output, server, catalog, hosts);
        return wrong.IsEmpty && stuck.Count == 0 && observedRight;
    }

    /// <summary>The ten most common (port, transport) pairs and ten from the tail; the port grains learn of changes a moment later, so this waits up to a minute.</summary>
    private static async Task<bool> ObservedAsync(TextWriter output, ServerProcess server, FleetCatalog catalog, IReadOnlyList<FleetHost> hosts)
    {
        var listening = new Dictionary<(uint Port, Transport Transport), HashSet<string>>();
        foreach (var host in hosts)
        {
            foreach (var kind in host.Kinds)
            {
                var key = (catalog[kind].Port, catalog[kind].Transport);
                if (!listening.TryGetValue(key, out var refs)) listening[key] = refs = [];
                refs.Add(host.Ref);
            }
        }

        var ranked = listening.OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key.Port).Select(p => (p.Key, Count: (ulong)p.Value.Count)).ToList();
        var random = new Random(5);
        var sample = ranked.Take(10).Concat(ranked.Skip(10).OrderBy(_ => random.Next()).Take(10)).ToList();
        var observations = new PortHistory.Contracts.V1.Observations.ObservationsClient(server.Channel);
        var differences = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            differences.Clear();
            foreach (var ((port, transport), count) in sample)
            {
                var observed = await observations.GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport });
                var entry = observed.Observed?.Transports.FirstOrDefault(t => t.Transport == transport);
                var held = entry?.OnlineHosts ?? 0;
                if (held != count) differences.Add($"{port}/{transport}: server {held} online ({entry?.StaleHosts ?? 0} stale), simulator {count}");
            }

            if (differences.Count == 0) break;
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        while (DateTime.UtcNow < deadline);

        output.WriteLine($"check: {sample.Count - differences.Count} of {sample.Count} sampled ports count the simulator's hosts per transport " +
            $"(from {sample[0].Count:N0} hosts on {sample[0].Key.Port}/{sample[0].Key.Transport} down to {sample.Min(s => s.Count):N0}): {(differences.Count == 0 ? "PASS" : "FAIL")}");
        foreach (var line in differences.Take(5)) output.WriteLine($"  {line}");
        return differences.Count == 0;
    }
}
