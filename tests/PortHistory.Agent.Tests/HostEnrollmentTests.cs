using Grpc.Core;
using PortHistory.Agent.Enrolling;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>Enrolling and rotating against a scripted server: what is sent, what is stored, and what is not.</summary>
public sealed class HostEnrollmentTests : IDisposable
{
    private const string Issued = "ph_issued-credential";
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("porthistory-agent-enroll-");
    private readonly StringWriter _error = new();
    private readonly List<TimeSpan> _waits = [];

    private string CredentialPath => Path.Combine(_directory.FullName, "lib", "credential");

    private HostEnrollment Enrollment(ScriptedInvoker invoker) => new(new Enrollment.EnrollmentClient(invoker), _error,
        new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), MaxAttempts: 3),
        delay: (wait, _) =>
        {
            _waits.Add(wait);
            return Task.CompletedTask;
        },
        jitter: () => 0);

    [Fact]
    public async Task Enrolling_sends_the_secret_and_the_host_and_stores_the_credential_for_the_owner_only()
    {
        var invoker = new ScriptedInvoker(
            _ => throw new RpcException(new Status(StatusCode.Unavailable, "down")),
            request => new EnrollResponse { Credential = Issued, HostRef = ((EnrollRequest)request).HostRef, TokenId = "tok_1" });

        var tokenId = await Enrollment(invoker).EnrollAsync("ph_enroll-secret", "host-a", CredentialPath, CancellationToken.None);

        Assert.Equal("tok_1", tokenId);
        Assert.Equal([("/porthistory.v1.Enrollment/Enroll", "Bearer ph_enroll-secret"), ("/porthistory.v1.Enrollment/Enroll", "Bearer ph_enroll-secret")],
            invoker.Calls.Select(c => (c.Method, c.Authorization)));
        Assert.All(invoker.Calls, c => Assert.Equal("host-a", ((EnrollRequest)c.Request).HostRef));
        Assert.Single(_waits);
        Assert.Equal(Issued + "\n", await File.ReadAllTextAsync(CredentialPath));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(CredentialPath));
        Assert.Equal([CredentialPath], Directory.GetFiles(Path.GetDirectoryName(CredentialPath)!));
    }

    [Fact]
    public async Task A_refused_secret_stores_nothing_and_is_not_retried()
    {
        var invoker = new ScriptedInvoker(_ => throw new RpcException(new Status(StatusCode.Unauthenticated, "unknown or revoked token")));

        var refused = await Assert.ThrowsAsync<ServerRefusedException>(() =>
            Enrollment(invoker).EnrollAsync("ph_enroll-secret", "host-a", CredentialPath, CancellationToken.None));

        Assert.Equal(StatusCode.Unauthenticated, refused.Code);
        Assert.Single(invoker.Calls);
        Assert.False(File.Exists(CredentialPath));
    }

    [Theory]
    [InlineData("", "host-a")]
    [InlineData("ph_with space", "host-a")]
    [InlineData("ph_line\nbreak", "host-a")]
    [InlineData(Issued, "host-b")]
    public async Task An_answer_that_is_no_credential_for_this_host_leaves_the_stored_one_alone(string credential, string boundTo)
    {
        CredentialFile.Write(CredentialPath, "ph_before");
        var invoker = new ScriptedInvoker(_ => new EnrollResponse { Credential = credential, HostRef = boundTo, TokenId = "tok_1" });

        await Assert.ThrowsAsync<EnrollmentFailedException>(() => Enrollment(invoker).EnrollAsync("ph_secret", "host-a", CredentialPath, CancellationToken.None));

        Assert.Equal("ph_before", CredentialFile.TryRead(CredentialPath));
    }

    [Fact]
    public async Task Rotating_sends_the_stored_credential_and_replaces_it()
    {
        CredentialFile.Write(CredentialPath, "ph_current");
        var invoker = new ScriptedInvoker(_ => new RotateCredentialResponse { Credential = Issued, HostRef = "host-a", TokenId = "tok_2" });

        var tokenId = await Enrollment(invoker).RotateAsync(CredentialPath, CancellationToken.None);

        Assert.Equal("tok_2", tokenId);
        Assert.Equal(("/porthistory.v1.Enrollment/RotateCredential", "Bearer ph_current"), invoker.Calls.Select(c => (c.Method, c.Authorization)).Single());
        Assert.Equal(Issued, CredentialFile.TryRead(CredentialPath));
    }

    [Fact]
    public async Task The_enroll_command_needs_a_readable_secret_file()
    {
        var output = new StringWriter();
        var exit = await AgentApp.RunAsync(["enroll", "--enroll-secret-file", Path.Combine(_directory.FullName, "missing"), "--host-ref", "h",
            "--credential-file", CredentialPath], output, _error, CancellationToken.None);

        Assert.Equal(AgentApp.Usage, exit);
        Assert.StartsWith("error: --enroll-secret-file: ", _error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(CredentialPath));
    }

    [Fact]
    public async Task An_enrolling_agent_takes_no_other_token()
    {
        var secret = Path.Combine(_directory.FullName, "secret");
        await File.WriteAllTextAsync(secret, "ph_secret");
        var exit = await AgentApp.RunAsync(["--enroll-secret-file", secret, "--token", "t", "--host-ref", "h", "--once"], new StringWriter(), _error, CancellationToken.None);

        Assert.Equal(AgentApp.Usage, exit);
        Assert.Contains("--enroll-secret-file", _error.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private sealed class ScriptedInvoker(params Func<object, object>[] steps) : UnaryCallInvoker
    {
        private int _next;

        public List<(string Method, object Request, string? Authorization)> Calls { get; } = [];

        protected override object Answer(IMethod method, object request, CallOptions options)
        {
            Calls.Add((method.FullName, request, options.Headers?.GetValue("authorization")));
            return steps[_next++](request);
        }
    }
}
