using Google.Protobuf;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Cli.Expectations;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Sources;

/// <summary>The administration verbs against a PortHistory server: access tokens, fleet expectations, edition imports.</summary>
public sealed class ServerAdministration(ServerConnection server)
{
    public Task<TokenView> IssueTokenAsync(string name, Role role, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var response = await server.Access.IssueTokenAsync(new IssueTokenRequest { Name = name, Role = role }, server.Headers, cancellationToken: cancellationToken);
        return ObservationViews.ToView(response.Info, response.Token);
    });

    public Task<TokenView> RevokeTokenAsync(string id, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var response = await server.Access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = id }, server.Headers, cancellationToken: cancellationToken);
        return ObservationViews.ToView(response.Info);
    });

    public Task<IReadOnlyList<TokenView>> RevokeHostAsync(string hostRef, CancellationToken cancellationToken) => ServerConnection.Call<IReadOnlyList<TokenView>>(async () =>
    {
        var response = await server.Access.RevokeHostAsync(new RevokeHostRequest { HostRef = hostRef }, server.Headers, cancellationToken: cancellationToken);
        return [.. response.Revoked.Select(t => ObservationViews.ToView(t))];
    });

    public Task<uint> ApproveHostsAsync(IReadOnlyList<string> hostRefs, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
        (await server.Access.ApproveHostsAsync(new ApproveHostsRequest { HostRefs = { hostRefs } }, server.Headers, cancellationToken: cancellationToken)).Approved);

    public Task<IReadOnlyList<EnrollmentHost>> ListEnrollmentHostsAsync(CancellationToken cancellationToken) => ServerConnection.Call<IReadOnlyList<EnrollmentHost>>(async () =>
        [.. (await server.Access.ListEnrollmentHostsAsync(new ListEnrollmentHostsRequest(), server.Headers, cancellationToken: cancellationToken)).Hosts]);

    public Task<IReadOnlyList<TokenView>> ListTokensAsync(CancellationToken cancellationToken) => ServerConnection.Call<IReadOnlyList<TokenView>>(async () =>
    {
        var response = await server.Access.ListTokensAsync(new ListTokensRequest(), server.Headers, cancellationToken: cancellationToken);
        return [.. response.Tokens.Select(t => ObservationViews.ToView(t))];
    });

    public Task<(ExpectationView Expectation, bool Created)> SetExpectationAsync(ExpectationView expectation, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var response = await server.Expectations.SetExpectationAsync(new SetExpectationRequest { Expectation = ExpectationViews.ToContract(expectation) }, server.Headers,
            cancellationToken: cancellationToken);
        return (ExpectationViews.ToView(response.Expectation), response.Created);
    });

    public Task<ExpectationView> RemoveExpectationAsync(ExpectationView key, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var request = new RemoveExpectationRequest { Port = (uint)key.Port, Transport = key.Transport.ToProto(), Process = key.Process, HostGroup = key.Group ?? "" };
        return ExpectationViews.ToView((await server.Expectations.RemoveExpectationAsync(request, server.Headers, cancellationToken: cancellationToken)).Expectation);
    });

    public Task<IReadOnlyList<ExpectationView>> ListExpectationsAsync(CancellationToken cancellationToken) => ServerConnection.Call<IReadOnlyList<ExpectationView>>(async () =>
    {
        var response = await server.Expectations.ListExpectationsAsync(new ListExpectationsRequest(), server.Headers, cancellationToken: cancellationToken);
        return [.. response.Expectations.Select(ExpectationViews.ToView)];
    });

    public Task<ExpectationChanges> ReplaceExpectationsAsync(IReadOnlyList<ExpectationView> expectations, bool dryRun, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var request = new ReplaceExpectationsRequest { DryRun = dryRun };
        request.Expectations.AddRange(expectations.Select(ExpectationViews.ToContract));
        var response = await server.Expectations.ReplaceExpectationsAsync(request, server.Headers, cancellationToken: cancellationToken);
        return new ExpectationChanges([.. response.Added.Select(ExpectationViews.ToView)], [.. response.Removed.Select(ExpectationViews.ToView)],
            [.. response.Changed.Select(ExpectationViews.ToView)], response.Unchanged, dryRun);
    });

    /// <summary>Sends one edition file (header, then 1 MiB chunks) and reports the server's progress until it commits.</summary>
    public async Task<ImportEditionProgress> ImportAsync(string path, ImportEditionHeader header, Action<ImportEditionProgress> onProgress,
        CancellationToken cancellationToken) => await ServerConnection.Call(async () =>
    {
        using var call = server.Admin.ImportEdition(server.Headers, cancellationToken: cancellationToken);
        try
        {
            await call.RequestStream.WriteAsync(new ImportEditionRequest { Header = header }, cancellationToken);
            if (header.ServerPath.Length == 0)
            {
                await using var file = File.OpenRead(path);
                var buffer = new byte[1024 * 1024];
                int read;
                while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await call.RequestStream.WriteAsync(new ImportEditionRequest { Chunk = ByteString.CopyFrom(buffer, 0, read) }, cancellationToken);
                }
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server ended the call early (refused the file or the token): its status comes with the responses.
        }
        ImportEditionProgress? last = null;
        await foreach (var progress in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            onProgress(progress);
            last = progress;
        }

        return last ?? throw new SourceException($"{path}: the server closed the import without an answer", isUsage: false);
    });
}
