using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Access;

/// <summary>
/// The first admin token of a new installation, so that someone can administer the server. Its secret goes to a file
/// readable by the server's user only, never to the log (which may be shipped elsewhere, OTLP included).
/// </summary>
public sealed class BootstrapAdminToken(AccessTokens tokens, IOptions<AuthOptions> options, ILogger<BootstrapAdminToken> logger)
{
    private const string Name = "bootstrap admin";

    /// <summary>
    /// Where the first admin token goes when no file is configured: systemd's state directory when the service has one,
    /// else the server user's data directory ($XDG_DATA_HOME or ~/.local/share), under porthistory/.
    /// </summary>
    public static string DefaultFile =>
        Path.Combine(Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } state
                ? state.Split(':')[0]
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "porthistory"),
            "bootstrap-admin-token");

    /// <summary>
    /// With a file configured, the file holds a valid admin token (created when missing). Without one, the first admin
    /// token is created only if there is no live admin token at all, and written to <see cref="DefaultFile"/>.
    /// </summary>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (options.Value.BootstrapTokenFile is { } configured && !string.IsNullOrWhiteSpace(configured))
        {
            await KeepValidAsync(configured, cancellationToken);
            return;
        }

        await FirstAdminAsync(DefaultFile, cancellationToken);
    }

    private async Task KeepValidAsync(string file, CancellationToken cancellationToken)
    {
        if (File.Exists(file))
        {
            var held = (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
            if (!TokenSecrets.LooksLikeSecret(held))
            {
                // Perhaps the setting names the wrong file: what is there is not overwritten.
                logger.LogError("{File} (PortHistory:Auth:BootstrapTokenFile) does not hold a PortHistory token; it was left as it is and no admin token was " +
                                "issued. Point the setting at another file, or delete this one to have a token issued into it at the next start", file);
                return;
            }

            switch (await tokens.DescribeAsync(held, cancellationToken))
            {
                case { RevokedAt: null, Role: Role.Admin }:
                    return;
                case { RevokedAt: not null } revoked when !options.Value.ReplaceRevokedBootstrapToken:
                    logger.LogError("The admin token in {File} ({TokenId}) was revoked; no new admin token was issued in its place. To have one issued " +
                                    "there, delete the file (or set PortHistory:Auth:ReplaceRevokedBootstrapToken=true) and restart; or issue one with an " +
                                    "admin token you hold (porthistory token issue NAME --role admin)", file, revoked.TokenId);
                    return;
                case { RevokedAt: not null } revoked:
                    logger.LogWarning("The admin token in {File} ({TokenId}) was revoked; replacing it (PortHistory:Auth:ReplaceRevokedBootstrapToken)",
                        file, revoked.TokenId);
                    break;
                case { } other:
                    logger.LogError("{File} holds token {TokenId}, which is not an admin token; it was left as it is", file, other.TokenId);
                    return;
                case null:
                    // Unknown to this database (a new database with an old file): nothing was revoked, a token is issued.
                    break;
            }
        }

        var written = await WriteNewAsync(file, async secret => (await tokens.IssueAsync(Name, Role.Admin, secret, cancellationToken)).Info.TokenId, cancellationToken);
        if (written is not null) logger.LogWarning("Created an admin token ({TokenId}); its secret is in {File} (mode 600)", written, file);
    }

    private async Task FirstAdminAsync(string file, CancellationToken cancellationToken)
    {
        // Silos starting together on an empty database: one at a time decides, so only one first token is made.
        var written = await WriteNewAsync(file, async secret => (await tokens.IssueFirstAdminAsync(Name, secret, cancellationToken))?.TokenId, cancellationToken);
        if (written is null) return;
        logger.LogWarning("No admin token existed; created {TokenId}. Its secret is in {File} (mode 600, on this server only): read it, keep it " +
                          "elsewhere, and delete the file. PortHistory:Auth:BootstrapTokenFile chooses another file", written, file);
    }

    /// <summary>
    /// A new secret is written (owner-only from its first byte) before its token is stored, and the file put in place
    /// only once stored: a token is never stored whose secret nobody can read. Null when <paramref name="store"/> stored
    /// nothing, or the file could not be written.
    /// </summary>
    private async Task<string?> WriteNewAsync(string file, Func<string, Task<string?>> store, CancellationToken cancellationToken)
    {
        var secret = TokenSecrets.NewSecret();
        var temporary = file + ".new";
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.Delete(temporary);
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var stream = new FileStream(temporary, create))
            await using (var writer = new StreamWriter(stream))
            {
                await writer.WriteAsync(secret + "\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("No admin token was issued: its secret could not be written to {File} ({Message}). Set PortHistory:Auth:BootstrapTokenFile " +
                            "to a file in a directory the server may write", file, e.Message);
            return null;
        }

        try
        {
            var id = await store(secret);
            if (id is not null) File.Move(temporary, file, overwrite: true);
            return id;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
