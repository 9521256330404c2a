using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Access;

/// <summary>The first admin token of a new installation, so that someone can administer the server.</summary>
public sealed class BootstrapAdminToken(AccessTokens tokens, ILogger<BootstrapAdminToken> logger)
{
    /// <summary>
    /// Makes sure someone can administer the server. With a file configured, the file holds a valid admin token
    /// (created when it does not, mode 600). Without one, the first admin token is created only if there is no admin
    /// token at all, and shown once in the log.
    /// </summary>
    public async Task EnsureAsync(string? file, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(file))
        {
            if (File.Exists(file) && await tokens.ValidateAsync((await File.ReadAllTextAsync(file, cancellationToken)).Trim(), cancellationToken) is { IsAdmin: true }) return;
            var (created, token) = await tokens.IssueAsync("bootstrap admin", Role.Admin, cancellationToken);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            // Readable by the owner only from its first byte on: written to a new file made with mode 600, then moved.
            var temporary = file + ".new";
            File.Delete(temporary);
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var stream = new FileStream(temporary, create))
            await using (var writer = new StreamWriter(stream))
            {
                await writer.WriteAsync(token + "\n");
            }

            File.Move(temporary, file, overwrite: true);
            // Only the id is logged: the secret is in the file.
            logger.LogWarning("Created an admin token ({TokenId}) in {File}", created.TokenId, file);
            return;
        }

        // Silos starting together on an empty database: one at a time decides, so only one first token is made.
        if (await tokens.IssueFirstAdminAsync("bootstrap admin", cancellationToken) is not { } first) return;
        logger.LogWarning("No admin token existed; created {TokenId}. It is shown this once: {Token}", first.Info.TokenId, first.Secret);
    }
}
