using System.CommandLine;
using Grpc.Net.Client;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Enrolling;

/// <summary>
/// `porthistory-agent enroll`, `porthistory-agent rotate-credential`, and enrolling at start when the agent is given an
/// enrollment secret and has no credential yet.
/// </summary>
public static class EnrollCommands
{
    public static Option<string?> EnrollSecretFileOption() => new("--enroll-secret-file")
    {
        Description = "File holding an enrollment secret: with no credential stored yet, the agent enrolls this host first and then reports with its own credential.",
    };

    public static Option<string> CredentialFileOption() => new("--credential-file")
    {
        Description = $"Where this host's own credential is kept (mode 600). Default: {CredentialFile.DefaultPath}.",
        DefaultValueFactory = _ => CredentialFile.DefaultPath,
    };

    /// <summary>
    /// The token source of an agent started with --enroll-secret-file: the stored credential, after enrolling when
    /// there is none. An existing credential is kept even if the secret changed: re-enrolling is an explicit act
    /// (`porthistory-agent enroll`, or deleting the file), so that revoking a host's credential is not undone by a restart.
    /// </summary>
    public static async Task<Func<string>> CredentialAsync(
        Uri server, string hostRef, string enrollSecretFile, string credentialFile, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (CredentialFile.TryRead(credentialFile) is null)
        {
            var secret = ReadSecret(enrollSecretFile);
            using var channel = GrpcChannel.ForAddress(server);
            var tokenId = await new HostEnrollment(new Enrollment.EnrollmentClient(channel), error).EnrollAsync(secret, hostRef, credentialFile, cancellationToken);
            await output.WriteLineAsync($"enrolled host {hostRef} with {server}: credential {tokenId} stored in {credentialFile}");
        }

        return () => CredentialFile.TryRead(credentialFile) ?? throw new UsageException($"--credential-file: cannot read a credential from \"{credentialFile}\"");
    }

    public static IEnumerable<Command> Build(TextWriter output, TextWriter error)
    {
        yield return Enroll(output, error);
        yield return Rotate(output, error);
    }

    private static Command Enroll(TextWriter output, TextWriter error)
    {
        var server = AgentOptions.ServerOption();
        var allowInsecure = AgentOptions.AllowInsecureOption();
        var secretFile = EnrollSecretFileOption();
        secretFile.Required = true;
        secretFile.Description = "File holding the enrollment secret (a token with the enroll role).";
        var hostRef = new Option<string?>("--host-ref") { Description = "Host id to enroll. Default: derived from /etc/machine-id." };
        var credentialFile = CredentialFileOption();
        var command = new Command("enroll", "Get this host a credential of its own and store it; an earlier credential of the host is revoked.")
        {
            server, allowInsecure, secretFile, hostRef, credentialFile,
        };
        command.SetAction((parse, cancel) => RunAsync(error, async () =>
        {
            var serverUri = AgentSettings.ResolveServer(parse.GetValue(server), Environment.GetEnvironmentVariable, parse.GetValue(allowInsecure));
            var host = AgentSettings.ResolveHostRef(parse.GetValue(hostRef));
            var secret = ReadSecret(parse.GetValue(secretFile)!);
            var file = parse.GetValue(credentialFile)!;
            using var channel = GrpcChannel.ForAddress(serverUri);
            var tokenId = await new HostEnrollment(new Enrollment.EnrollmentClient(channel), error).EnrollAsync(secret, host, file, cancel);
            await output.WriteLineAsync($"enrolled host {host} with {serverUri}: credential {tokenId} stored in {file}");
        }));
        return command;
    }

    private static Command Rotate(TextWriter output, TextWriter error)
    {
        var server = AgentOptions.ServerOption();
        var allowInsecure = AgentOptions.AllowInsecureOption();
        var credentialFile = CredentialFileOption();
        var command = new Command("rotate-credential",
            "Replace this host's credential with a new one. The old one works until the new one is first used; a running agent picks the new one up at its next send.")
        {
            server, allowInsecure, credentialFile,
        };
        command.SetAction((parse, cancel) => RunAsync(error, async () =>
        {
            var serverUri = AgentSettings.ResolveServer(parse.GetValue(server), Environment.GetEnvironmentVariable, parse.GetValue(allowInsecure));
            var file = parse.GetValue(credentialFile)!;
            using var channel = GrpcChannel.ForAddress(serverUri);
            var tokenId = await new HostEnrollment(new Enrollment.EnrollmentClient(channel), error).RotateAsync(file, cancel);
            await output.WriteLineAsync($"rotated: credential {tokenId} stored in {file}");
        }));
        return command;
    }

    private static string ReadSecret(string file) => CredentialFile.TryRead(file)
        ?? throw new UsageException($"--enroll-secret-file: cannot read an enrollment secret from \"{file}\"");

    /// <summary>The exit codes of the agent: refused 3, failed 1, usage 2.</summary>
    private static async Task<int> RunAsync(TextWriter error, Func<Task> action)
    {
        try
        {
            await action();
            return AgentApp.Ok;
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return AgentApp.Usage;
        }
        catch (ServerRefusedException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return AgentApp.Refused;
        }
        catch (Exception e) when (e is EnrollmentFailedException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return AgentApp.Failed;
        }
    }
}
