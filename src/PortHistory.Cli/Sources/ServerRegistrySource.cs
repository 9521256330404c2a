using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;
using PortHistory.Cli.Expectations;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Sources;

/// <summary>Answers from a PortHistory server over gRPC, turned back into the Registry library's terms for rendering.</summary>
public sealed class ServerRegistrySource : IRegistrySource
{
    private readonly GrpcChannel _channel;
    private readonly Metadata _headers = [];

    public ServerRegistrySource(string address, string? token)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server must be an http:// or https:// URL, got \"{address}\"");
        }

        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024, ServiceConfig = ReadRetries });
        if (!string.IsNullOrWhiteSpace(token)) _headers.Add("authorization", $"Bearer {token}");
        Registry = new PortRegistry.PortRegistryClient(_channel);
        Admin = new RegistryAdmin.RegistryAdminClient(_channel);
        Observations = new Observations.ObservationsClient(_channel);
        Access = new AccessAdmin.AccessAdminClient(_channel);
        Expectations = new ExpectationAdmin.ExpectationAdminClient(_channel);
    }

    /// <summary>
    /// Reads are asked again when the server is briefly unavailable (a silo restarting, PostgreSQL failing over). Only
    /// the read services: an import or a token issued twice would not be harmless.
    /// </summary>
    private static readonly Grpc.Net.Client.Configuration.ServiceConfig ReadRetries = new()
    {
        MethodConfigs =
        {
            new Grpc.Net.Client.Configuration.MethodConfig
            {
                Names =
                {
                    new Grpc.Net.Client.Configuration.MethodName { Service = PortRegistry.Descriptor.FullName },
                    new Grpc.Net.Client.Configuration.MethodName { Service = Contracts.V1.Observations.Descriptor.FullName },
                },
                RetryPolicy = new Grpc.Net.Client.Configuration.RetryPolicy
                {
                    MaxAttempts = 5,
                    InitialBackoff = TimeSpan.FromMilliseconds(500),
                    MaxBackoff = TimeSpan.FromSeconds(5),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    };

    public PortRegistry.PortRegistryClient Registry { get; }

    public RegistryAdmin.RegistryAdminClient Admin { get; }

    public Observations.ObservationsClient Observations { get; }

    public AccessAdmin.AccessAdminClient Access { get; }

    public ExpectationAdmin.ExpectationAdminClient Expectations { get; }

    public Metadata Headers => _headers;

    public Task<IReadOnlyList<EditionOverview>> ListEditionsAsync(CancellationToken cancellationToken) => Call<IReadOnlyList<EditionOverview>>(async () =>
    {
        var response = await Registry.ListEditionsAsync(new ListEditionsRequest(), _headers, cancellationToken: cancellationToken);
        return [.. response.Editions.Select(e => e.ToDomain())];
    });

    public Task<IReadOnlyList<AssignmentTimeline>> GetTimelinesAsync(int port, TransportProtocol? transport, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<AssignmentTimeline>>(async () =>
        {
            var response = await Registry.GetTimelineAsync(
                new GetTimelineRequest { Port = (uint)port, Transport = (transport ?? TransportProtocol.Unspecified).ToProto() }, _headers,
                cancellationToken: cancellationToken);
            return [.. response.Timelines.Select(t => t.ToDomain())];
        });

    public Task<PortAnswer> GetPortAsync(int port, TransportProtocol? transport, DateOnly? asOf, CancellationToken cancellationToken) => Call(async () =>
    {
        var request = new GetPortRequest { Port = (uint)port, Transport = (transport ?? TransportProtocol.Unspecified).ToProto(), AsOf = asOf?.ToProto() };
        var response = await Registry.GetPortAsync(request, _headers, cancellationToken: cancellationToken);
        return new PortAnswer(port, response.PortClass.ToDomain(), response.Edition?.ToDomain(),
            [.. response.Transports.Select(t => new TransportAnswer(t.Transport.ToDomain(), [.. t.Records.Select(r => r.ToDomain())], t.Since?.ToDomain()))],
            ObservationViews.ToView(port, response.Observed, response.Verdicts)) { Local = [.. response.Local.Select(l => l.ToDomain())] };
    });

    public Task<ServiceAnswer> FindServiceAsync(string name, CancellationToken cancellationToken) => Call(async () =>
    {
        var response = await Registry.FindServiceAsync(new FindServiceRequest { Name = name }, _headers, cancellationToken: cancellationToken);
        return new ServiceAnswer(name, [.. response.Holdings.Select(h => h.ToDomain())], [.. response.Renames.Select(r => r.ToDomain())]);
    });

    public Task<EditionDiff> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken) => Call(async () =>
    {
        using var call = Registry.DiffEditions(new DiffEditionsRequest { FromEdition = from, ToEdition = to, Ports = ports?.ToProto() }, _headers,
            cancellationToken: cancellationToken);
        EditionIdentity? fromRef = null, toRef = null;
        var entries = new List<EditionDiffEntry>();
        await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            fromRef ??= response.From.ToDomain();
            toRef ??= response.To.ToDomain();
            entries.AddRange(response.Entries.Select(e => e.ToDomain()));
        }

        return new EditionDiff(fromRef!, toRef!, [.. entries]);
    });

    public async IAsyncEnumerable<AssignmentInEffect> ListPortsAsync(PortSpan range, DateOnly? asOf, RecordStatus? status, TransportProtocol? transport,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListPortsRequest
        {
            Range = range.ToProto(),
            AsOf = asOf?.ToProto(),
            Status = (status ?? 0).ToProto(),
            Transport = (transport ?? TransportProtocol.Unspecified).ToProto(),
        };
        using var call = Registry.ListPorts(request, _headers, cancellationToken: cancellationToken);
        var stream = call.ResponseStream;
        while (await Call(() => stream.MoveNext(cancellationToken)))
        {
            var response = stream.Current;
            if (response.Edition is null) continue;
            var edition = response.Edition.ToDomain();
            foreach (var port in response.Ports)
            {
                yield return new AssignmentInEffect((int)port.Port, port.Transport.ToDomain(), edition, [.. port.Records.Select(r => r.ToDomain())],
                    port.Since.ToDomain());
            }
        }
    }

    public Task<ObservedAnswer> GetObservedAsync(int port, TransportProtocol? transport, CancellationToken cancellationToken) => Call(async () =>
    {
        var request = new GetObservedRequest { Port = (uint)port, Transport = (transport ?? TransportProtocol.Unspecified).ToProto() };
        var response = await Observations.GetObservedAsync(request, _headers, cancellationToken: cancellationToken);
        return ObservationViews.ToView(port, response.Observed, response.Verdicts);
    });

    /// <summary>Fleet-wide discrepancies in port order, and the number of hosts reporting (from the first response).</summary>
    public async IAsyncEnumerable<(DiscrepancyView Discrepancy, ulong ReportingHosts)> ListDiscrepanciesAsync(
        IReadOnlyList<VerdictKind> verdicts, PortSpan? range, TransportProtocol? transport, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListDiscrepanciesRequest { Range = range?.ToProto(), Transport = (transport ?? TransportProtocol.Unspecified).ToProto() };
        request.Verdicts.AddRange(verdicts);
        using var call = Observations.ListDiscrepancies(request, _headers, cancellationToken: cancellationToken);
        var stream = call.ResponseStream;
        while (await Call(() => stream.MoveNext(cancellationToken)))
        {
            var response = stream.Current;
            foreach (var d in response.Discrepancies)
            {
                yield return (new DiscrepancyView((int)d.Port, ObservationViews.ToView(d.Verdict), d.Hosts, d.Sightings), response.ReportingHosts);
            }
        }
    }

    public Task<TokenView> IssueTokenAsync(string name, Role role, CancellationToken cancellationToken) => Call(async () =>
    {
        var response = await Access.IssueTokenAsync(new IssueTokenRequest { Name = name, Role = role }, _headers, cancellationToken: cancellationToken);
        return ObservationViews.ToView(response.Info, response.Token);
    });

    public Task<TokenView> RevokeTokenAsync(string id, CancellationToken cancellationToken) => Call(async () =>
    {
        var response = await Access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = id }, _headers, cancellationToken: cancellationToken);
        return ObservationViews.ToView(response.Info);
    });

    public Task<IReadOnlyList<TokenView>> ListTokensAsync(CancellationToken cancellationToken) => Call<IReadOnlyList<TokenView>>(async () =>
    {
        var response = await Access.ListTokensAsync(new ListTokensRequest(), _headers, cancellationToken: cancellationToken);
        return [.. response.Tokens.Select(t => ObservationViews.ToView(t))];
    });

    public Task<(ExpectationView Expectation, bool Created)> SetExpectationAsync(ExpectationView expectation, CancellationToken cancellationToken) => Call(async () =>
    {
        var response = await Expectations.SetExpectationAsync(new SetExpectationRequest { Expectation = ExpectationViews.ToContract(expectation) }, _headers,
            cancellationToken: cancellationToken);
        return (ExpectationViews.ToView(response.Expectation), response.Created);
    });

    public Task<ExpectationView> RemoveExpectationAsync(ExpectationView key, CancellationToken cancellationToken) => Call(async () =>
    {
        var request = new RemoveExpectationRequest { Port = (uint)key.Port, Transport = key.Transport.ToProto(), Process = key.Process, HostGroup = key.Group ?? "" };
        return ExpectationViews.ToView((await Expectations.RemoveExpectationAsync(request, _headers, cancellationToken: cancellationToken)).Expectation);
    });

    public Task<IReadOnlyList<ExpectationView>> ListExpectationsAsync(CancellationToken cancellationToken) => Call<IReadOnlyList<ExpectationView>>(async () =>
    {
        var response = await Expectations.ListExpectationsAsync(new ListExpectationsRequest(), _headers, cancellationToken: cancellationToken);
        return [.. response.Expectations.Select(ExpectationViews.ToView)];
    });

    public Task<ExpectationChanges> ReplaceExpectationsAsync(IReadOnlyList<ExpectationView> expectations, bool dryRun, CancellationToken cancellationToken) => Call(async () =>
    {
        var request = new ReplaceExpectationsRequest { DryRun = dryRun };
        request.Expectations.AddRange(expectations.Select(ExpectationViews.ToContract));
        var response = await Expectations.ReplaceExpectationsAsync(request, _headers, cancellationToken: cancellationToken);
        return new ExpectationChanges([.. response.Added.Select(ExpectationViews.ToView)], [.. response.Removed.Select(ExpectationViews.ToView)],
            [.. response.Changed.Select(ExpectationViews.ToView)], response.Unchanged, dryRun);
    });

    /// <summary>Sends one edition file (header, then 1 MiB chunks) and reports the server's progress until it commits.</summary>
    public async Task<ImportEditionProgress> ImportAsync(string path, ImportEditionHeader header, Action<ImportEditionProgress> onProgress,
        CancellationToken cancellationToken) => await Call(async () =>
    {
        using var call = Admin.ImportEdition(_headers, cancellationToken: cancellationToken);
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

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await ValueTask.CompletedTask;
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
            using (var call = Observations.Watch(attempt, _headers, cancellationToken: cancellationToken))
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
                        await Call<bool>(() => Task.FromException<bool>(e));
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

    /// <summary>Turns gRPC failures into messages: the server's own text, and whether the request (not the server) was wrong.</summary>
    internal static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e)
        {
            var usage = e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.OutOfRange;
            var detail = e.StatusCode == StatusCode.Unavailable && e.Status.Detail.StartsWith("Error connecting", StringComparison.Ordinal)
                ? "the server is not reachable"
                : e.Status.Detail;
            throw new SourceException($"{detail} ({e.StatusCode})", usage, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new SourceException($"cannot talk to the server: {e.Message}", isUsage: false, e);
        }
    }
}
