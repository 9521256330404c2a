using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsCheck;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>Who calls, and what the fuzzer records of each answer.</summary>
public sealed partial class WireFuzz
{
    // ---- Who calls ----

    private enum Caller
    {
        Admin,
        Agent,
        Anonymous,
        Forged,
    }

    private GrpcChannel ChannelOf(Caller caller) => caller switch
    {
        Caller.Admin => _admin,
        Caller.Agent => _agent,
        _ => _anonymous,
    };

    private CallInvoker InvokerOf(Caller caller) => caller switch
    {
        Caller.Admin => _adminInvoker,
        Caller.Agent => _agentInvoker,
        _ => _anonymousInvoker,
    };

    /// <summary>A forged caller sends its own authorization header on the channel that sends none.</summary>
    private static CallOptions Options(Caller caller, PCG pcg, TimeSpan timeout)
    {
        var headers = caller == Caller.Forged ? new Metadata { { "authorization", Draw(ForgedTokenGen, pcg) } } : null;
        return new CallOptions(headers: headers, deadline: DateTime.UtcNow + timeout);
    }

    // ---- What was sent, what came back ----

    private readonly record struct Outcome(StatusCode Status, string Detail, Exception? RaisedInClient)
    {
        public static Outcome Ok => new(StatusCode.OK, "", null);
    }

    private static async Task<Outcome> Observe(Func<Task> call)
    {
        try
        {
            await call();
            return Outcome.Ok;
        }
        catch (RpcException e)
        {
            return new Outcome(e.StatusCode, e.Status.Detail, e.Status.DebugException);
        }
    }

    private void Record(int index, string method, Caller caller, bool raw, Outcome outcome, bool undecodable, bool readBeforeHandlers)
    {
        var status = undecodable ? $"{outcome.Status} (undecodable request)" : outcome.Status.ToString();
        Count(_statuses, status);
        Count(_calls, $"{method}{(raw ? " raw" : "")}: {status}");
        if (outcome.Status is not (StatusCode.Internal or StatusCode.Unknown) && outcome.RaisedInClient is null) return;
        Offend(new FuzzOffence(index, method, caller.ToString(), raw, outcome.Status.ToString(), Describe(outcome)));
    }

    private static string Describe(Outcome outcome)
    {
        var detail = outcome.RaisedInClient is { } e ? $"{outcome.Detail} [raised in the client: {e.GetType().Name}: {e.Message}]" : outcome.Detail;
        return detail.Length <= 400 ? detail : detail[..400] + "...";
    }

    private static void Count(ConcurrentDictionary<string, int> counts, string key) => counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    private void Offend(FuzzOffence offence)
    {
        if (Interlocked.Increment(ref _offenceCount) <= 1_000) _offences.Enqueue(offence);
    }

    private void TouchPort(bool present, uint port)
    {
        if (present && port <= MaxPort) _touched.TryAdd(port, 0);
    }

    private void TouchBatch(SightingBatch batch)
    {
        foreach (var sighting in batch.Sightings) TouchPort(sighting.HasPort, sighting.Port);
    }

    /// <summary>The ports of the sightings the server says it recorded (all but the rejected ones of a batch not refused whole).</summary>
    private void Accepted(SightingBatch batch, BatchResult result)
    {
        if (result.Error.Length > 0 || result.Duplicate || result.Accepted == 0) return;
        var rejected = result.Rejected.Select(r => r.Index).ToHashSet();
        for (var i = 0; i < batch.Sightings.Count; i++)
        {
            var sighting = batch.Sightings[i];
            if (!rejected.Contains((uint)i) && sighting.HasPort && sighting.Port <= MaxPort) _sighted.TryAdd(sighting.Port, 0);
        }
    }
}
