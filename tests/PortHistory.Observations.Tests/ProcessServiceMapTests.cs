using System.Text;
using CsCheck;
using PortHistory.Observations;

namespace PortHistory.Observations.Tests;

/// <summary>
/// A process is matched by its systemd unit, then by what its runtime runs, then by its name: the most specific first,
/// so that "java" or "python3" can still be told apart.
/// </summary>
public sealed class ProcessServiceMapTests
{
    private static readonly Func<string, bool> NoneKnown = _ => false;
    private static readonly ProcessServiceMap Table = ProcessServiceMap.Default;

    [Fact]
    public void A_systemd_unit_in_the_table_names_the_service_whatever_the_process_is_called()
    {
        var match = Table.Match(new ProcessIdentity("rpc.statd-wrapper", "/usr/local/sbin/statd", SystemdUnit: "rpc-statd.service"), NoneKnown);

        Assert.Equal((MatchedOn.Unit, MatchSource.Table, "rpc-statd.service"), (match.On, match.Source, match.Process));
        Assert.Empty(match.Services);
        Assert.Contains("ONC RPC", match.Reason, StringComparison.Ordinal);
        // Units are matched without regard to case.
        Assert.Equal(["amqp", "amqps"], Table.Match(new ProcessIdentity("beam.smp", SystemdUnit: "RabbitMQ-Server.service"), NoneKnown).Services);
    }

    [Theory]
    [InlineData("kafka_2.13-3.6.0.jar", "kafka")]
    [InlineData("zookeeper-3.8.4.jar", "zookeeper")]
    [InlineData("zookeeper.jar", "zookeeper")]
    [InlineData("org.apache.zookeeper.server.quorum.QuorumPeerMain", "org.apache.zookeeper.server.quorum.quorumpeermain")]
    [InlineData("kafka.Kafka", "kafka.kafka")]
    [InlineData("jenkins.war", "jenkins")]
    [InlineData("org.apache.catalina.startup.Bootstrap", "org.apache.catalina.startup.bootstrap")]
    [InlineData("rabbit", "rabbit")]
    [InlineData("gunicorn", "gunicorn")]
    public void A_program_is_matched_without_its_extension_and_version(string program, string matched)
    {
        var match = Table.Match(new ProcessIdentity("java", "/usr/lib/jvm/bin/java", program), NoneKnown);

        Assert.Equal((MatchedOn.Program, MatchSource.Table, matched), (match.On, match.Source, match.Process));
    }

    [Fact]
    public void Tomcat_and_rabbitmq_provide_the_services_the_registry_names()
    {
        Assert.Equal(["http-alt", "http", "https"], Table.Match(new ProcessIdentity("java", Program: "org.apache.catalina.startup.Bootstrap"), NoneKnown).Services);
        Assert.Equal(["amqp", "amqps"], Table.Match(new ProcessIdentity("beam.smp", Program: "rabbit"), NoneKnown).Services);
        Assert.Empty(Table.Match(new ProcessIdentity("java", Program: "kafka.Kafka"), NoneKnown).Services);
    }

    [Fact]
    public void The_unit_comes_before_the_program_and_the_program_before_the_process_name()
    {
        var all = new ProcessIdentity("sshd", "/usr/sbin/sshd", "gunicorn", "rabbitmq-server.service");

        Assert.Equal(["amqp", "amqps"], Table.Match(all, NoneKnown).Services);
        Assert.Equal(["http", "http-alt"], Table.Match(all with { SystemdUnit = "" }, NoneKnown).Services);
        Assert.Equal(["ssh"], Table.Match(all with { SystemdUnit = null, Program = null }, NoneKnown).Services);
        // What the table does not know passes on to the next: an unknown unit, then an unknown program.
        Assert.Equal(["ssh"], Table.Match(all with { SystemdUnit = "unheard-of.service", Program = "unheard-of.jar" }, NoneKnown).Services);
    }

    [Fact]
    public void A_table_entry_for_the_process_name_beats_a_guess_from_the_unit_or_program()
    {
        var match = Table.Match(new ProcessIdentity("sshd", SystemdUnit: "wpages.service", Program: "wpages.jar"), name => name == "wpages");

        Assert.Equal(MatchedOn.Process, match.On);
        Assert.Equal(["ssh"], match.Services);
    }

    [Fact]
    public void Without_a_table_entry_a_unit_or_program_named_like_a_service_is_taken_to_be_it()
    {
        Func<string, bool> known = name => name is "postgresql" or "wpages" or "ftp";

        var unit = Table.Match(new ProcessIdentity("launcher", SystemdUnit: "postgresql@15-main.service", Program: "wpages.jar"), known);
        Assert.Equal((MatchedOn.Unit, MatchSource.SameName, "postgresql"), (unit.On, unit.Source, unit.Services.Single()));
        var program = Table.Match(new ProcessIdentity("java", Program: "wpages-2.1.0.jar"), known);
        Assert.Equal((MatchedOn.Program, MatchSource.SameName, "wpages"), (program.On, program.Source, program.Services.Single()));
        var daemon = Table.Match(new ProcessIdentity("python3", Program: "ftpd.py"), known);
        Assert.Equal((MatchedOn.Program, MatchSource.DaemonSuffix, "ftp"), (daemon.On, daemon.Source, daemon.Services.Single()));
        Assert.Equal(MatchSource.Unknown, Table.Match(new ProcessIdentity("java", Program: "app.jar"), known).Source);
    }

    private static readonly Gen<string> Version = Gen.Select(Gen.Int[0, 30], Gen.Int[0, 99], Gen.Int[0, 9], Gen.OneOf<string>(["-", "_", "-v"]),
            Gen.OneOf<string>(["", "-SNAPSHOT", ".Final", "-rc1"]))
        .Select((major, minor, patch, separator, suffix) => $"{separator}{major}.{minor}.{patch}{suffix}");

    [Fact]
    public void Every_program_in_the_table_is_found_under_any_version_and_archive_extension()
    {
        string[] programs = ["zookeeper", "kafka", "elasticsearch", "jenkins", "rabbitmq", "couchdb", "gunicorn", "uvicorn", "puma"];
        Gen.Select(Gen.OneOf<string>(programs), Version, Gen.OneOf<string>([".jar", ".war", ".py", ".js", ".dll", ""]), Gen.Bool)
            .Sample((program, version, extension, upper) =>
            {
                var sent = program + version + extension;
                var match = Table.Match(new ProcessIdentity("java", Program: upper ? sent.ToUpperInvariant() : sent), NoneKnown);
                Assert.Equal((MatchedOn.Program, MatchSource.Table, program), (match.On, match.Source, match.Process));
            }, iter: 2_000);
    }

    [Fact]
    public void A_process_known_only_by_name_is_matched_as_before()
    {
        var match = Table.Match("sshd", "/usr/sbin/sshd", NoneKnown);

        Assert.Equal((MatchedOn.Process, MatchSource.Table, "sshd"), (match.On, match.Source, match.Process));
        Assert.Equal(["ssh"], match.Services);
    }

    [Theory]
    [InlineData("""{ "processes": [ { "process": "x", "program": "y", "services": [] } ] }""")]
    [InlineData("""{ "processes": [ { "services": ["ssh"] } ] }""")]
    [InlineData("""{ "processes": [ { "unit": "x.service" } ] }""")]
    public void A_table_entry_must_name_one_key_and_its_services(string json) =>
        Assert.Throws<InvalidDataException>(() => ProcessServiceMap.Load(new MemoryStream(Encoding.UTF8.GetBytes(json))));
}
