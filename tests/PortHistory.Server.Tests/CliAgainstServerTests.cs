using PortHistory.Cli;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>The porthistory verbs with --server answer exactly as they do offline from the same editions.</summary>
[Collection(ServerCollection.Name)]
public sealed class CliAgainstServerTests(RegistryServerFixture fixture)
{
    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("port", "771", "--as-of", "1991-01-01")]
    [InlineData("port", "776")]
    [InlineData("port", "2", "--transport", "udp", "--as-of", "2026-08-17")]
    [InlineData("timeline", "776")]
    [InlineData("timeline", "2", "--transport", "tcp")]
    [InlineData("service", "wpages")]
    [InlineData("service", "acmaint_dbd")]
    [InlineData("ports", "--range", "760-800", "--as-of", "1993-01-01")]
    [InlineData("ports", "--range", "0-30", "--status", "de-assigned")]
    public async Task A_verb_gives_the_same_json_from_the_server_as_offline(params string[] verb)
    {
        var offline = await RunAsync(["--editions", RegistryData.Directory, .. verb, "--json"]);
        var remote = await RunAsync(["--server", fixture.Server.Address, "--token", fixture.Server.AdminToken, .. verb, "--json"]);

        Assert.Equal((0, ""), (offline.Exit, offline.Error));
        Assert.Equal((0, ""), (remote.Exit, remote.Error));
        Assert.Equal(offline.Output, WithoutObserved(remote.Output));
    }

    /// <summary>A server's `port` answer also says what fleets observe; the registry part is what must match.</summary>
    private static string WithoutObserved(string json)
    {
        if (System.Text.Json.Nodes.JsonNode.Parse(json) is not System.Text.Json.Nodes.JsonObject answer || !answer.ContainsKey("observed")) return json;
        Assert.Equal(0, answer["observed"]!["reportingHosts"]!.GetValue<int>());
        answer.Remove("observed");
        return answer.ToJsonString(PortHistory.Cli.Output.Json.Options) + Environment.NewLine;
    }

    [Fact]
    public async Task Editions_and_import_work_against_the_server()
    {
        var editions = await RunAsync("--server", fixture.Server.Address, "--token", fixture.Server.AdminToken, "editions");
        Assert.Equal(0, editions.Exit);
        Assert.Equal(16, editions.Output.Split('\n').Count(l => l.StartsWith("rfc", StringComparison.Ordinal) || l.StartsWith("iana-", StringComparison.Ordinal)));

        var again = await RunAsync("--server", fixture.Server.Address, "--token", fixture.Server.AdminToken, "import", RegistryData.Directory);
        Assert.Equal((0, ""), (again.Exit, again.Error));
        Assert.Equal(16, again.Output.Split('\n').Count(l => l.EndsWith("already imported; nothing changed", StringComparison.Ordinal)));

        var directory = Directory.CreateTempSubdirectory("porthistory-import-");
        try
        {
            var bytes = RegistryData.Bytes("service-names-port-numbers_2013-02-18.xml");
            await File.WriteAllBytesAsync(Path.Combine(directory.FullName, "broken.xml"), bytes[..50_000]);
            var broken = await RunAsync("--server", fixture.Server.Address, "--token", fixture.Server.AdminToken, "import", directory.FullName);
            Assert.Equal(1, broken.Exit);
            Assert.Matches(@"broken\.xml: file: broken\.xml:\d+: XML is not well-formed", broken.Error);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Import_on_server_sends_only_the_path_and_the_server_reads_the_file_itself()
    {
        string[] server = ["--server", fixture.Server.Address, "--token", fixture.Server.AdminToken];

        // Already imported: the server hashed the very bytes at that path (no bytes were sent).
        var existing = await RunAsync([.. server, "import", "--on-server", RegistryData.PathOf("rfc1340.txt")]);
        Assert.Equal((0, ""), (existing.Exit, existing.Error));
        Assert.StartsWith("rfc1340.txt: rfc1340: 774 records", existing.Output);
        Assert.EndsWith("rfc1340.txt: rfc1340: already imported; nothing changed", existing.Output.Trim());

        var missing = await RunAsync([.. server, "import", "--on-server", RegistryData.PathOf("rfc9999.txt")]);
        Assert.Equal(1, missing.Exit);
        Assert.Contains($"server_path: no such file on the server: {RegistryData.PathOf("rfc9999.txt")}", missing.Error);

        // A path and bytes together are ambiguous.
        var both = await RegistryServerFixture.FailsAsync(() => EditionUpload.ImportAsync(fixture.Server.Channel, RegistryData.PathOf("rfc1340.txt"),
            new Contracts.V1.ImportEditionHeader { ServerPath = RegistryData.PathOf("rfc1340.txt") }));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, both.StatusCode);
        Assert.StartsWith("chunk: ", both.Status.Detail);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_clear_error()
    {
        var run = await RunAsync("--server", $"http://127.0.0.1:{PostgresServer.FreePort()}", "port", "22");

        Assert.Equal(1, run.Exit);
        Assert.Contains("not reachable", run.Error);
    }
}
