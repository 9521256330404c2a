using Microsoft.OpenApi.Models;

namespace PortHistory.Server.Hosting;

public static partial class HostingExtensions
{
    /// <summary>Where the OpenAPI document of the HTTP/JSON API is served; open to anyone, like the schema it describes.</summary>
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>
    /// The OpenAPI document of the HTTP/JSON routes (the contract's google.api.http rules), with the proto comments as
    /// descriptions and protobuf's JSON names and enum names in the schemas.
    /// </summary>
    private static void AddHttpJsonDescription(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpcSwagger();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "PortHistory",
                Version = "v1",
                Description = "Registry history and observed usage of network ports. Every route needs \"Authorization: Bearer <token>\".",
            });
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer" });
            o.AddSecurityRequirement(new OpenApiSecurityRequirement
            {
                [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = "bearer" } }] = [],
            });
            var comments = Path.Combine(AppContext.BaseDirectory, "PortHistory.Contracts.xml");
            if (File.Exists(comments)) o.IncludeGrpcXmlComments(comments, includeControllerXmlComments: true);
        });
    }

    /// <summary>
    /// An endpoint, not Swashbuckle's middleware: the middleware resolves its document generator and that generator's
    /// dependencies from the container for every request that passes it, gRPC calls included.
    /// </summary>
    private static void MapHttpJsonDescription(this WebApplication app) =>
        app.MapSwagger(OpenApiPath.Replace("v1", "{documentName}", StringComparison.Ordinal));
}
