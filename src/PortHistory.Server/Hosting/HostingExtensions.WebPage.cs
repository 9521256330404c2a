namespace PortHistory.Server.Hosting;

public static partial class HostingExtensions
{
    /// <summary>Where the HTTP/JSON endpoint's address is configured; the web page is served there only.</summary>
    private const string HttpEndpointUrlKey = "Kestrel:Endpoints:Http:Url";

    /// <summary>
    /// The page's own files and the JSON API of the same origin, nothing else: no inline script or style (the page
    /// shows text that agents sent), no frames, no plugins, no form posts elsewhere.
    /// </summary>
    public const string WebPageContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// The web page (wwwroot: HTML, JavaScript modules and CSS, no build step) on the HTTP/JSON endpoint, reading the
    /// JSON API there with the token a person enters. Static files only: every answer still needs a token.
    /// </summary>
    public static WebApplication MapWebPage(this WebApplication app)
    {
        var url = app.Configuration[HttpEndpointUrlKey];
        if (string.IsNullOrWhiteSpace(url)) return app;
        var port = BindingAddress.Parse(url).Port;
        app.UseWhen(context => context.Connection.LocalPort == port, page =>
        {
            page.UseDefaultFiles();
            page.UseStaticFiles(new StaticFileOptions
            {
                OnPrepareResponse = file =>
                {
                    var headers = file.Context.Response.Headers;
                    headers.ContentSecurityPolicy = WebPageContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                    // Small files: revalidated on every load, so a new server version is picked up at once.
                    headers.CacheControl = "no-cache";
                },
            });
        });
        return app;
    }
}
