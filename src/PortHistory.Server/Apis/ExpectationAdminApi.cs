using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Expectations;
using PortHistory.Server.Application.Sightings;
using PortHistory.Contracts;

namespace PortHistory.Server.Apis;

/// <summary>porthistory.v1.ExpectationAdmin: set, remove, list and replace the fleet's expectations (admins only).</summary>
public sealed class ExpectationAdminApi(ExpectationAdministration expectations) : ExpectationAdmin.ExpectationAdminBase
{
    public const int MaxNote = 500;

    public override async Task<SetExpectationResponse> SetExpectation(SetExpectationRequest request, ServerCallContext context)
    {
        var expectation = Valid(request.Expectation, "expectation");
        return await Limited(() => expectations.SetAsync(expectation, CallAuthorization.PrincipalOf(context).Name, context.CancellationToken));
    }

    public override async Task<RemoveExpectationResponse> RemoveExpectation(RemoveExpectationRequest request, ServerCallContext context)
    {
        var key = Key(request.HasPort, request.Port, request.Transport, request.Process, request.HostGroup, "");
        var removed = await expectations.RemoveAsync(key, context.CancellationToken)
                      ?? throw new RpcException(new Status(StatusCode.NotFound, $"no expectation {Describe(key)}"));
        return new RemoveExpectationResponse { Expectation = removed };
    }

    public override async Task<ListExpectationsResponse> ListExpectations(ListExpectationsRequest request, ServerCallContext context)
    {
        var response = new ListExpectationsResponse();
        response.Expectations.AddRange(await expectations.ListAsync(context.CancellationToken));
        return response;
    }

    public override async Task<ReplaceExpectationsResponse> ReplaceExpectations(ReplaceExpectationsRequest request, ServerCallContext context)
    {
        if (request.Expectations.Count > IExpectationStore.MaxExpectations)
        {
            throw Requests.Invalid("expectations", $"at most {IExpectationStore.MaxExpectations} expectations, got {request.Expectations.Count}");
        }

        var wanted = request.Expectations.Select((e, i) => Valid(e, $"expectations[{i}]")).ToList();
        if (wanted.GroupBy(e => (e.Port, e.Transport, e.Process, e.HostGroup)).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw Requests.Invalid("expectations", $"{Describe(twice.First())} is listed {twice.Count()} times");
        }

        if (wanted.GroupBy(e => (e.Port, e.Transport)).FirstOrDefault(g => g.Count() > IExpectationStore.MaxPerPort) is { } crowded)
        {
            throw Requests.Invalid("expectations", $"{crowded.Key.Port}/{Name(crowded.Key.Transport)} has {crowded.Count()} expectations; at most {IExpectationStore.MaxPerPort}");
        }

        return await Limited(() => expectations.ReplaceAsync(wanted, CallAuthorization.PrincipalOf(context).Name, request.DryRun, context.CancellationToken));
    }

    /// <summary>An expectation from the wire, every field checked; what the server sets (set_by, set_at) is dropped.</summary>
    public static Expectation Valid(Expectation? expectation, string field)
    {
        if (expectation is null) throw Requests.Invalid(field, "is required");
        var valid = Key(expectation.HasPort, expectation.Port, expectation.Transport, expectation.Process, expectation.HostGroup, field + ".");
        var note = expectation.Note.Trim();
        if (WireText.Check(note, MaxNote) is { } reason) throw Requests.Invalid($"{field}.note", reason);
        valid.Note = note;
        return valid;
    }

    private static Expectation Key(bool hasPort, uint port, Transport transport, string process, string hostGroup, string prefix)
    {
        var number = Requests.Port(hasPort, port, prefix + "port");
        if (transport == Transport.Unspecified || !Enum.IsDefined(transport))
        {
            throw Requests.Invalid(prefix + "transport", $"must be tcp, udp, sctp or dccp, got {(int)transport}");
        }

        return new Expectation
        {
            Port = (uint)number,
            Transport = transport,
            Process = Requests.Name(process, prefix + "process", 256, required: true),
            HostGroup = Requests.Name(hostGroup, prefix + "host_group", SightingValidator.MaxHostGroupLength, required: false),
        };
    }

    private static string Name(Transport transport) => transport.ToString().ToLowerInvariant();

    private static string Describe(Expectation e) =>
        $"{e.Port}/{Name(e.Transport)} {e.Process}{(e.HostGroup.Length > 0 ? $" in group {e.HostGroup}" : "")}";

    private static async Task<T> Limited<T>(Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (ExpectationLimitException e)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, e.Message));
        }
    }
}
