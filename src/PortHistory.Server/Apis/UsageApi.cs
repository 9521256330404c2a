using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.Usage: one port's usage history from the usage tables; bulk loads of past observations (admins).</summary>
public sealed class UsageApi(IUsageStore store, UsageLoader loader, IOptions<VerdictOptions> verdicts, TimeProvider clock) : Usage.UsageBase
{
    public override async Task<GetUsageHistoryResponse> GetUsageHistory(GetUsageHistoryRequest request, ServerCallContext context)
    {
        var port = Requests.Port(request.HasPort, request.Port);
        var transport = Requests.Transport(request.Transport);
        if (!Enum.IsDefined(request.Granularity)) throw Requests.Invalid("granularity", $"unknown granularity {(int)request.Granularity} (use day, week or month)");
        if (request.Top > UsageQuery.MaxTop) throw Requests.Invalid("top", $"at most {UsageQuery.MaxTop}, got {request.Top}");
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var to = Day(request.To, "to") ?? today;
        var from = Day(request.From, "from") ?? to.AddDays(-364);
        if (from > to) throw Requests.Invalid("from", $"{request.From} is after to ({UsageHistoryBuilder.Text(to)})");
        if (to.DayNumber - from.DayNumber >= UsageQuery.MaxDays) throw Requests.Invalid("from", $"a range covers at most {UsageQuery.MaxDays} days");
        if (to > today.AddDays(1)) throw Requests.Invalid("to", $"{request.To} is in the future");
        var granularity = request.Granularity == UsageGranularity.Unspecified ? UsageGranularity.Day : request.Granularity;
        var query = new UsageQuery(port, transport == Transport.Unspecified ? null : transport, from, to, granularity,
            request.Top == 0 ? UsageQuery.DefaultTop : (int)request.Top, CallAuthorization.PrincipalOf(context).IsAdmin, request.Columns);
        var rows = await store.ReadAsync(port, query.Transport, from, to, context.CancellationToken);
        return UsageHistoryBuilder.Build(query, rows, verdicts.Value.MinHostsPerProcess);
    }

    public override async Task<LoadUsageHistoryResponse> LoadUsageHistory(IAsyncStreamReader<LoadUsageHistoryRequest> requestStream, ServerCallContext context)
    {
        var caller = CallAuthorization.PrincipalOf(context);
        using var load = loader.TryBegin(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime))
                         ?? throw new RpcException(new Status(StatusCode.ResourceExhausted, "another usage load is running on this server: try again once it is done"));
        var source = "";
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (request.Source.Length > 0) source = Requests.Text(request.Source, "source", 256);
            if (!load.Add(request.Rows)) break;
        }

        if (load.Errors.Count > 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"nothing was loaded: {load.Errors.Count}{(load.Errors.Count >= UsageLoad.MaxErrors ? "+" : "")} bad row(s): " +
                string.Join("; ", load.Errors.Take(20).Select(e => $"line {e.Line}: {e.Field}: {e.Reason}"))));
        }

        var result = await loader.CommitAsync(load, $"{(source.Length > 0 ? source : "a load")} by {caller.Name}", context.CancellationToken);
        return new LoadUsageHistoryResponse
        {
            Rows = (ulong)result.Rows, Series = (ulong)result.Series,
            FirstDay = result.FirstDay is { } first ? UsageHistoryBuilder.Text(first) : "", LastDay = result.LastDay is { } last ? UsageHistoryBuilder.Text(last) : "",
        };
    }

    // Before 1970 is refused too: a range reaching back from an early day must not leave the calendar.
    private static DateOnly? Day(string text, string field) =>
        text.Length == 0 ? null : UsageLoad.DayRefusal(text, out var day) is { } bad ? throw Requests.Invalid(field, bad) : day;
}
