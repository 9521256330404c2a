using System.ComponentModel.DataAnnotations;
using PortHistory.Server.Configuration;

namespace PortHistory.Server.Hosting;

public static partial class HostingExtensions
{
    /// <summary>Kestrel's limits beyond appsettings.json's: connections per remote address, on every endpoint.</summary>
    public static WebApplicationBuilder AddConnectionLimits(this WebApplicationBuilder builder)
    {
        // Read now: Kestrel's endpoints are configured while the host is built.
        var settings = builder.Configuration.GetSection(ConnectionLimitOptions.Section).Get<ConnectionLimitOptions>() ?? new ConnectionLimitOptions();
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var limiter = new ConnectionsPerAddress(settings.PerAddress,
                kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<ConnectionsPerAddress>());
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(limiter.Limit));
        });
        return builder;
    }
}
