using System.Runtime.CompilerServices;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Sources;

/// <summary>What fleets observe, from a PortHistory server: one port, the fleet-wide discrepancies, and the watch feed.</summary>
public sealed class ServerObservations(ServerConnection server)
{
    public Task<ObservedAnswer> GetObservedAsync(int port, TransportProtocol? transport, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var request = new GetObservedRequest { Port = (uint)port, Transport = (transport ?? TransportProtocol.Unspecified).ToProto() };
        var response = await server.Observations.GetObservedAsync(request, server.Headers, cancellationToken: cancellationToken);
        return ObservationViews.ToView(port, response.Observed, response.Verdicts);
    });

    /// <summary>Fleet-wide discrepancies in port order, and the number of hosts reporting (from the first response).</summary>
    public async IAsyncEnumerable<(DiscrepancyView Discrepancy, ulong ReportingHosts)> ListDiscrepanciesAsync(
        IReadOnlyList<VerdictKind> verdicts, PortSpan? range, TransportProtocol? transport, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListDiscrepanciesRequest { Range = range?.ToProto(), Transport = (transport ?? TransportProtocol.Unspecified).ToProto() };
        request.Verdicts.AddRange(verdicts);
        using var call = server.Observations.ListDiscrepancies(request, server.Headers, cancellationToken: cancellationToken);
        var stream = call.ResponseStream;
        while (await ServerConnection.Call(() => stream.MoveNext(cancellationToken)))
        {
            var response = stream.Current;
            foreach (var d in response.Discrepancies)
            {
                yield return (new DiscrepancyView((int)d.Port, ObservationViews.ToView(d.Verdict), d.Hosts, d.Sightings), response.ReportingHosts);
            }
        }
    }

    /// <summary>
    /// Watch events, for as long as the caller reads: when the server becomes unavailable (a gateway restarting, the
    /// connection lost) the stream is opened again after the last cursor received, so nothing is missed and nothing
    /// comes twice. <paramref name="reconnecting"/> hears of each wait before a new attempt.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(WatchRequest request, Action<string>? reconnecting,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ulong? cursor = request.HasAfterCursor ? request.AfterCursor : null;
        var wait = WatchRetryFirst;
        while (true)
        {
            var attempt = request.Clone();
            if (cursor is { } after) attempt.AfterCursor = after;
            using (var call = server.Observations.Watch(attempt, server.Headers, cancellationToken: cancellationToken))
            {
                string? lost = null;
                while (lost is null)
                {
                    bool more;
                    try
                    {
                        more = await call.ResponseStream.MoveNext(cancellationToken);
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && !cancellationToken.IsCancellationRequested)
                    {
                        lost = e.Status.Detail;
                        break;
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
                    {
                        lost = e.Message;
                        break;
                    }
                    catch (RpcException e)
                    {
                        await ServerConnection.Call<bool>(() => Task.FromException<bool>(e));
                        throw;
                    }

                    if (!more)
                    {
                        lost = "the server ended the stream";
                        break;
                    }

                    var response = call.ResponseStream.Current;
                    cursor = response.Cursor;
                    wait = WatchRetryFirst;
                    if (response.Event is { } watched) yield return watched;
                }

                reconnecting?.Invoke($"{lost}; watching again after cursor {cursor?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none yet)"} in {wait.TotalSeconds:0.#} s");
            }

            await Task.Delay(wait, cancellationToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, WatchRetryMax.Ticks));
        }
    }

    private static readonly TimeSpan WatchRetryFirst = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan WatchRetryMax = TimeSpan.FromSeconds(10);
}
