using System.Collections.Concurrent;
using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Tests;

/// <summary>A Usage service that answers a set history, keeps what it was sent, and refuses a load when told to.</summary>
public sealed class FakeUsage : Usage.UsageBase
{
    public GetUsageHistoryResponse History { get; set; } = new();

    /// <summary>The status a load is answered with instead of a result; null to accept it.</summary>
    public Status? LoadRefusal { get; set; }

    public ConcurrentQueue<GetUsageHistoryRequest> HistoryRequests { get; } = new();

    public ConcurrentQueue<LoadUsageHistoryRequest> LoadMessages { get; } = new();

    public ConcurrentQueue<string> Authorizations { get; } = new();

    public int Loads;

    public IReadOnlyList<UsageRow> LoadedRows => [.. LoadMessages.SelectMany(m => m.Rows)];

    public override Task<GetUsageHistoryResponse> GetUsageHistory(GetUsageHistoryRequest request, ServerCallContext context)
    {
        HistoryRequests.Enqueue(request);
        Authorizations.Enqueue(context.RequestHeaders.GetValue("authorization") ?? "");
        return Task.FromResult(History);
    }

    public override async Task<LoadUsageHistoryResponse> LoadUsageHistory(IAsyncStreamReader<LoadUsageHistoryRequest> requestStream, ServerCallContext context)
    {
        Interlocked.Increment(ref Loads);
        Authorizations.Enqueue(context.RequestHeaders.GetValue("authorization") ?? "");
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken)) LoadMessages.Enqueue(message);
        if (LoadRefusal is { } refusal) throw new RpcException(refusal);
        var rows = LoadedRows;
        var days = rows.Select(r => r.Day).Order(StringComparer.Ordinal).ToList();
        return new LoadUsageHistoryResponse
        {
            Rows = (ulong)rows.Count, Series = (ulong)rows.Select(r => (r.Port, r.Transport, r.ProcessName)).Distinct().Count(),
            FirstDay = days.FirstOrDefault() ?? "", LastDay = days.LastOrDefault() ?? "",
        };
    }
}
