using Microsoft.Extensions.DependencyInjection.Extensions;
using PortHistory.Server.Apis;
using PortHistory.Server.Application.Ports;

namespace PortHistory.Server.Hosting;

public static partial class HostingExtensions
{
    /// <summary>The gRPC gateway: services, reflection, and grpc.health.v1 backed by the readiness check.</summary>
    public static WebApplicationBuilder AddGrpcGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CallAuthorization>();
        builder.Services.AddSingleton<RpcErrorMapping>();
        builder.Services.AddSingleton<PortReads>();
        // Singletons, the services too: they hold nothing per call, and grpc-dotnet would otherwise build the
        // interceptor and each service, dependencies resolved one by one, for every call.
        builder.Services.AddSingleton<GatewayInterceptor>();
        builder.Services.AddSingleton<PortRegistryApi>();
        builder.Services.AddSingleton<RegistryAdminApi>();
        builder.Services.AddSingleton<SightingsApi>();
        builder.Services.AddSingleton<ObservationsApi>();
        builder.Services.AddSingleton<AccessAdminApi>();
        builder.Services.AddSingleton<ExpectationAdminApi>();
        builder.Services.AddSingleton<EnrollmentApi>();
        builder.Services.AddSingleton<HostsApi>();
        // Requests are read whole before any interceptor sees the call (tokens are checked before that, by
        // CallAuthorizationMiddleware), so the size limits bound what an authenticated caller makes the gateway read.
        var grpc = builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<GatewayInterceptor>();
            o.MaxReceiveMessageSize = 64 * 1024;
        })
        .AddServiceOptions<SightingsApi>(o => o.MaxReceiveMessageSize = 8 * 1024 * 1024)
        .AddServiceOptions<RegistryAdminApi>(o => o.MaxReceiveMessageSize = 4 * 1024 * 1024);
        builder.Services.AddGrpcReflection();
        // Singletons: the health service would otherwise build a check anew for every probe, and its memory (the last
        // answer, whether it was unhealthy) with it.
        builder.Services.AddSingleton<ReadinessHealthCheck>();
        builder.Services.AddSingleton<FollowingHealthCheck>();
        builder.Services.AddGrpcHealthChecks(o =>
            {
                o.UseHealthChecksCache = false;
                // The server's readiness is "" alone; following the registry has a service of its own.
                o.Services.Map("", r => r.Name == ReadinessHealthCheck.Name);
                o.Services.Map(FollowingHealthCheck.ServiceName, r => r.Name == FollowingHealthCheck.Name);
            })
            .AddCheck<ReadinessHealthCheck>(ReadinessHealthCheck.Name)
            .AddCheck<FollowingHealthCheck>(FollowingHealthCheck.Name);
        // In place of grpc-dotnet's method provider (registered by the calls above): the same methods, with undecodable
        // requests answered InvalidArgument.
        // The OpenAPI description is registered first: it registers gRPC's own method provider again.
        builder.AddHttpJsonDescription();
        builder.Services.RemoveAll(typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>));
        builder.Services.AddSingleton(typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>), typeof(ContractMethodProvider<>));
        // HTTP/JSON routes from the contract's google.api.http rules, through the same interceptor and services.
        // The error details the services attach (Requests.Invalid) must be known to be written as JSON.
        grpc.AddJsonTranscoding(o => o.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.BadRequest.Descriptor));
        return builder;
    }

    public static WebApplication MapPortHistoryApis(this WebApplication app)
    {
        // After routing (which only matches the endpoint), before any endpoint reads a request's body.
        app.UseMiddleware<CallAuthorizationMiddleware>();
        // After it: a port's JSON answer kept with the answer this silo published is sent to admitted callers only.
        app.UseMiddleware<PortJsonAnswers>();
        app.MapGrpcService<PortRegistryApi>();
        app.MapGrpcService<RegistryAdminApi>();
        app.MapGrpcService<SightingsApi>();
        app.MapGrpcService<ObservationsApi>();
        app.MapGrpcService<AccessAdminApi>();
        app.MapGrpcService<ExpectationAdminApi>();
        app.MapGrpcService<EnrollmentApi>();
        app.MapGrpcService<HostsApi>();
        app.MapGrpcService<UsageApi>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        app.MapHttpJsonDescription();
        return app;
    }
}
