using Npgsql;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Infrastructure.Access;

/// <summary>The first admin token of a new installation, so that someone can administer the server.</summary>
public sealed class BootstrapAdminToken(AccessTokens tokens, NpgsqlDataSource dataSource, ILogger<BootstrapAdminToken> logger)
{
    private const long BootstrapLock = 0x706f7274_61646d6e; // "portadmn"

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
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(@lock); SELECT count(*) FROM access_tokens WHERE role = 3 AND revoked_at IS NULL", connection, transaction))
        {
            command.Parameters.AddWithValue("lock", BootstrapLock);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) > 0) return;
        }

        var (info, secret) = await tokens.IssueAsync(connection, "bootstrap admin", Role.Admin, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogWarning("No admin token existed; created {TokenId}. It is shown this once: {Token}", info.TokenId, secret);
    }
}
