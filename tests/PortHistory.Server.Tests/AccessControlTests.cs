using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>Every RPC needs a token, and a role that may call it; revocation takes effect at once.</summary>
[Collection(OwnServerCollection.Name)]
public sealed class AccessControlTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private static readonly Dictionary<string, (Role Required, Func<GrpcChannel, Task> Call)> Rpcs = new()
    {
        ["PortRegistry/GetPort"] = (Role.Reader, c => new PortRegistry.PortRegistryClient(c).GetPortAsync(new GetPortRequest { Port = 22 }).ResponseAsync),
        ["PortRegistry/GetTimeline"] = (Role.Reader, c => new PortRegistry.PortRegistryClient(c).GetTimelineAsync(new GetTimelineRequest { Port = 22 }).ResponseAsync),
        ["PortRegistry/FindService"] = (Role.Reader, c => new PortRegistry.PortRegistryClient(c).FindServiceAsync(new FindServiceRequest { Name = "ssh" }).ResponseAsync),
        ["PortRegistry/DiffEditions"] = (Role.Reader, c => DrainAsync(new PortRegistry.PortRegistryClient(c).DiffEditions(
            new DiffEditionsRequest { FromEdition = "iana-xml-2026-08-17", ToEdition = "iana-xml-2026-08-17" }).ResponseStream)),
        ["PortRegistry/ListPorts"] = (Role.Reader, c => DrainAsync(new PortRegistry.PortRegistryClient(c).ListPorts(
            new ListPortsRequest { Range = new PortRange { First = 22, Last = 22 } }).ResponseStream)),
        ["PortRegistry/ListEditions"] = (Role.Reader, c => new PortRegistry.PortRegistryClient(c).ListEditionsAsync(new ListEditionsRequest()).ResponseAsync),
        ["Observations/GetObserved"] = (Role.Reader, c => new ObservationsService.ObservationsClient(c).GetObservedAsync(new GetObservedRequest { Port = 22 }).ResponseAsync),
        ["Observations/ListDiscrepancies"] = (Role.Reader, c => DrainAsync(new ObservationsService.ObservationsClient(c).ListDiscrepancies(
            new ListDiscrepanciesRequest { Range = new PortRange { First = 22, Last = 22 } }).ResponseStream)),
        ["Observations/Watch"] = (Role.Reader, async c =>
        {
            // A watch never ends by itself: allowed once its first message (the position mark) arrives.
            using var call = new ObservationsService.ObservationsClient(c).Watch(new WatchRequest());
            if (!await call.ResponseStream.MoveNext(CancellationToken.None)) throw new InvalidOperationException("the watch ended without a position");
        }),
        ["Sightings/ReportBatch"] = (Role.Agent, c => new Sightings.SightingsClient(c).ReportBatchAsync(Batch([Sighting("acl-host", 31000, Transport.Tcp, "acl")])).ResponseAsync),
        ["Sightings/Report"] = (Role.Agent, async c =>
        {
            using var call = new Sightings.SightingsClient(c).Report();
            await SendAllAsync(call.RequestStream, Batch([Sighting("acl-host", 31001, Transport.Tcp, "acl")]));
            await call.ResponseAsync;
        }),
        // The edition the server holds already: allowed means answered "already imported", not a new import.
        ["RegistryAdmin/ImportEdition"] = (Role.Admin, c => SightingsServer.ImportNewestEditionAsync(c)),
        ["AccessAdmin/IssueToken"] = (Role.Admin, c => new AccessAdmin.AccessAdminClient(c).IssueTokenAsync(new IssueTokenRequest { Name = "probe", Role = Role.Reader }).ResponseAsync),
        ["AccessAdmin/RevokeToken"] = (Role.Admin, c => new AccessAdmin.AccessAdminClient(c).RevokeTokenAsync(new RevokeTokenRequest { TokenId = "tok_none" }).ResponseAsync),
        ["AccessAdmin/ListTokens"] = (Role.Admin, c => new AccessAdmin.AccessAdminClient(c).ListTokensAsync(new ListTokensRequest()).ResponseAsync),
        ["AccessAdmin/RevokeHost"] = (Role.Admin, c => new AccessAdmin.AccessAdminClient(c).RevokeHostAsync(new RevokeHostRequest { HostRef = "acl-no-such-host" }).ResponseAsync),
        ["AccessAdmin/ApproveHosts"] = (Role.Admin, c => new AccessAdmin.AccessAdminClient(c).ApproveHostsAsync(new ApproveHostsRequest { HostRefs = { "acl-approved" } }).ResponseAsync),
        ["AccessAdmin/ListEnrollmentHosts"] = (Role.Admin, c => new AccessAdmin.AccessAdminClient(c).ListEnrollmentHostsAsync(new ListEnrollmentHostsRequest()).ResponseAsync),
        ["ServerReflection/ServerReflectionInfo"] = (Role.Unspecified, async c =>
        {
            using var call = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(c).ServerReflectionInfo();
            await SendAllAsync(call.RequestStream, new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
            await DrainAsync(call.ResponseStream);
        }),
    };

    public static TheoryData<string> RpcNames => [.. Rpcs.Keys];

    [Theory]
    [MemberData(nameof(RpcNames))]
    public async Task Each_rpc_refuses_missing_unknown_and_revoked_tokens_and_roles_that_may_not_call_it(string rpc)
    {
        var server = await SharedServerAsync();
        var (required, call) = Rpcs[rpc];
        var access = new AccessAdmin.AccessAdminClient(server.Admin);

        Assert.Equal(StatusCode.Unauthenticated, (await RegistryServerFixture.FailsAsync(() => call(server.Server.AnonymousChannel))).StatusCode);
        using (var forged = server.Server.ChannelWith(() => "ph_not-a-token"))
        {
            Assert.Equal(StatusCode.Unauthenticated, (await RegistryServerFixture.FailsAsync(() => call(forged))).StatusCode);
        }

        foreach (var role in new[] { Role.Agent, Role.Reader, Role.Admin })
        {
            var issued = await access.IssueTokenAsync(new IssueTokenRequest { Name = $"{rpc} {role}", Role = role });
            using var channel = server.Server.ChannelWith(() => issued.Token);
            var allowed = role == Role.Admin || required == Role.Unspecified || role == required;
            var failure = await TryAsync(() => call(channel));
            if (allowed)
            {
                Assert.True(failure is null or { StatusCode: not (StatusCode.Unauthenticated or StatusCode.PermissionDenied) },
                    $"{role} should be allowed to call {rpc}: {failure?.Status}");
            }
            else
            {
                Assert.Equal(StatusCode.PermissionDenied, failure?.StatusCode);
                Assert.StartsWith("authorization: ", failure!.Status.Detail);
            }

            await access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = issued.Info.TokenId });
            Assert.Equal(StatusCode.Unauthenticated, (await RegistryServerFixture.FailsAsync(() => call(channel))).StatusCode);
        }
    }

    [Fact]
    public async Task The_health_service_needs_no_token()
    {
        var server = await SharedServerAsync();
        var reply = await new Grpc.Health.V1.Health.HealthClient(server.Server.AnonymousChannel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task A_revoked_agent_is_refused_on_its_very_next_call()
    {
        var server = await SharedServerAsync();
        var access = new AccessAdmin.AccessAdminClient(server.Admin);
        var agent = await access.IssueTokenAsync(new IssueTokenRequest { Name = "agent to revoke", Role = Role.Agent });
        using var channel = server.Server.ChannelWith(() => agent.Token);
        var sightings = new Sightings.SightingsClient(channel);
        Assert.Equal(1u, (await sightings.ReportBatchAsync(Batch([Sighting("revoked-host", 31002, Transport.Tcp, "x")]))).Accepted);

        var revoked = await access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = agent.Info.TokenId });

        Assert.NotNull(revoked.Info.RevokedAt);
        var refused = await RegistryServerFixture.FailsAsync(() => sightings.ReportBatchAsync(Batch([Sighting("revoked-host", 31002, Transport.Tcp, "x")])).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains((await access.ListTokensAsync(new ListTokensRequest())).Tokens, t => t.TokenId == agent.Info.TokenId && t.RevokedAt is not null);
    }

    [Fact]
    public async Task An_agent_over_its_rate_is_told_to_retry_after_a_while()
    {
        var server = await resources.SharedAsync("ratelimit", () => SightingsServer.StartAsync(fixture.Postgres, "ratelimit",
            new Dictionary<string, string> { ["PortHistory__RateLimit__SightingsPerSecond"] = "2", ["PortHistory__RateLimit__Burst"] = "10" }));
        var sightings = new Sightings.SightingsClient(server.Agent);
        var ten = Enumerable.Range(0, 10).Select(i => Sighting($"rate-{i}", 32000, Transport.Tcp, "x")).ToList();

        Assert.Equal(10u, (await sightings.ReportBatchAsync(Batch(ten))).Accepted);
        var limited = await RegistryServerFixture.FailsAsync(() => sightings.ReportBatchAsync(Batch(ten)).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, limited.StatusCode);
        var retryAfter = int.Parse(limited.Trailers.GetValue("retry-after-ms")!);
        // Ten more at two per second: up to five seconds, less what refilled since the first batch was admitted.
        Assert.InRange(retryAfter, 1, 5000);
        Assert.Equal(((int)Math.Ceiling(retryAfter / 1000.0)).ToString(System.Globalization.CultureInfo.InvariantCulture), limited.Trailers.GetValue("retry-after"));
        // Other agents have buckets of their own.
        var other = await new AccessAdmin.AccessAdminClient(server.Admin).IssueTokenAsync(new IssueTokenRequest { Name = "second agent", Role = Role.Agent });
        using var channel = server.Server.ChannelWith(() => other.Token);
        Assert.Equal(10u, (await new Sightings.SightingsClient(channel).ReportBatchAsync(Batch(ten))).Accepted);
    }

    private Task<SightingsServer> SharedServerAsync() =>
        resources.SharedAsync("verdicts-access", () => SightingsServer.StartAsync(fixture.Postgres, "access"));

    /// <summary>
    /// Writes and completes a request stream. A server that refuses the call ends it without reading, and a write racing
    /// that end can fail with Cancelled before the refusal arrives; the call's real status comes with its response.
    /// </summary>
    private static async Task SendAllAsync<T>(IClientStreamWriter<T> requests, params T[] messages)
    {
        try
        {
            foreach (var message in messages) await requests.WriteAsync(message);
            await requests.CompleteAsync();
        }
        catch (RpcException)
        {
        }
    }

    private static async Task<RpcException?> TryAsync(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (RpcException e)
        {
            return e;
        }
    }

    private static async Task DrainAsync<T>(IAsyncStreamReader<T> stream)
    {
        while (await stream.MoveNext(CancellationToken.None))
        {
        }
    }
}
