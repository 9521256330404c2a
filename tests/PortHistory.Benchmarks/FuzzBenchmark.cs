using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// The suite's fuzz run at a larger size: generated and byte-mutated messages to every RPC of a real server on a real
/// PostgreSQL, then every touched port asked again. Prints the report (statuses per method, offences with their seed
/// and index); exits non-zero when any answer was Internal or Unknown or the server went down.
/// </summary>
internal static class FuzzBenchmark
{
    public static async Task<int> RunAsync(TextWriter output, int messages, ulong seed)
    {
        output.WriteLine($"PortHistory fuzz run: {messages:N0} messages, seed {seed} (PORTHISTORY_FUZZ_SEED={seed} repeats it)");
        await using var postgres = await PostgresServer.StartAsync();
        await using var server = new ServerProcess(postgres.ConnectionString("fuzz"));
        await server.StartAsync();
        await EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf("service-names-port-numbers_2026-08-17.xml"));
        var agent = await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "fuzz agent", Role = Role.Agent });
        using var agentChannel = server.ChannelWith(() => agent.Token);

        var report = await WireFuzz.RunAsync(server.Channel, agentChannel, server.AnonymousChannel, messages, seed);
        await server.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        output.WriteLine(report);
        output.WriteLine(report.Passed ? "no Internal or Unknown answer; the server is up and every port checked answers" : "FAILED");
        return report.Passed ? 0 : 1;
    }
}
