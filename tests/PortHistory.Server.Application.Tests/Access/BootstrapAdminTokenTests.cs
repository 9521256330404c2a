using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Application.Tests.Support;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>The first admin token's secret goes to a private file, never to the log; a revoked one is not replaced behind the admin's back.</summary>
public sealed class BootstrapAdminTokenTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("porthistory-bootstrap-");
    private readonly FakeAccessTokenStore _store = new();
    private readonly ListLogger<BootstrapAdminToken> _log = new();
    private readonly AccessTokens _tokens;

    public BootstrapAdminTokenTests()
    {
        var validator = new TokenValidator(_store, new FailedAuthenticationLimiter(Options.Create(new RateLimitOptions())), Options.Create(new EnrollmentOptions()),
            new PortHistoryMetrics(), TimeProvider.System, NullLogger<TokenValidator>.Instance);
        _tokens = new AccessTokens(_store, validator, NullLogger<AccessTokens>.Instance);
    }

    private string File_ => Path.Combine(_directory.FullName, "state", "admin-token");

    private Task EnsureAsync(bool replaceRevoked = false) =>
        new BootstrapAdminToken(_tokens, Options.Create(new AuthOptions { BootstrapTokenFile = File_, ReplaceRevokedBootstrapToken = replaceRevoked }), _log)
            .EnsureAsync(CancellationToken.None);

    [Fact]
    public async Task The_secret_is_written_to_a_private_file_and_the_log_names_only_the_id_and_the_file()
    {
        await EnsureAsync();

        var secret = (await File.ReadAllTextAsync(File_)).Trim();
        var token = Assert.Single(await _store.ListAsync(CancellationToken.None));
        Assert.Equal(Role.Admin, token.Role);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(File_));
        Assert.Contains(token.TokenId, _log.Text);
        Assert.Contains(File_, _log.Text);
        Assert.DoesNotContain(secret, _log.Text);
        Assert.DoesNotContain("ph_", _log.Text);
    }

    [Fact]
    public async Task A_revoked_token_in_the_file_is_left_there_with_an_error_naming_the_file_unless_replacing_is_allowed()
    {
        await EnsureAsync();
        var revokedSecret = await File.ReadAllTextAsync(File_);
        var revoked = Assert.Single(await _store.ListAsync(CancellationToken.None));
        await _tokens.RevokeAsync(revoked.TokenId, CancellationToken.None);

        await EnsureAsync();

        Assert.Equal(revokedSecret, await File.ReadAllTextAsync(File_));
        Assert.Single(await _store.ListAsync(CancellationToken.None));
        var error = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error).Message;
        Assert.Contains(File_, error);
        Assert.Contains("ReplaceRevokedBootstrapToken", error);

        await EnsureAsync(replaceRevoked: true);

        Assert.NotEqual(revokedSecret, await File.ReadAllTextAsync(File_));
        Assert.Equal(2, (await _store.ListAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_file_that_holds_no_token_is_not_overwritten()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(File_)!);
        await File.WriteAllTextAsync(File_, "root:x:0:0:root:/root:/bin/bash\n");

        await EnsureAsync();

        Assert.Equal("root:x:0:0:root:/root:/bin/bash\n", await File.ReadAllTextAsync(File_));
        Assert.Empty(await _store.ListAsync(CancellationToken.None));
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
