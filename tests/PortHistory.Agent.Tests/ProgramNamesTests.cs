using CsCheck;
using PortHistory.Agent.Scanning;

namespace PortHistory.Agent.Tests;

public sealed class ProgramNamesTests
{
    private const string Jvm = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
    private const string Python = "/usr/bin/python3.11";

    public static TheoryData<string, string, string[], string> Runtimes => new()
    {
        { "java", Jvm, ["java", "-Xmx2g", "-Dzookeeper.log.dir=/var/log", "-jar", "/opt/zookeeper/lib/zookeeper-3.8.4.jar", "conf/zoo.cfg"], "zookeeper-3.8.4.jar" },
        {
            "java", Jvm,
            ["/usr/bin/java", "-Xms1g", "-cp", "/opt/kafka/libs/*:/opt/kafka/config", "-Dlog4j.configuration=file:/opt/kafka/log4j.properties",
                "-XX:+UseG1GC", "kafka.Kafka", "config/server.properties"],
            "kafka.Kafka"
        },
        {
            "java", Jvm,
            ["java", "-Djava.util.logging.config.file=/var/lib/tomcat9/conf/logging.properties", "-classpath",
                "/usr/share/tomcat9/bin/bootstrap.jar:/usr/share/tomcat9/bin/tomcat-juli.jar", "-Dcatalina.base=/var/lib/tomcat9",
                "org.apache.catalina.startup.Bootstrap", "start"],
            "org.apache.catalina.startup.Bootstrap"
        },
        { "java", Jvm, ["java", "--module-path", "/opt/app/mods", "-m", "com.example.app/com.example.app.Main"], "com.example.app.Main" },
        { "java", Jvm, ["java", "-jar", "/usr/share/java/jenkins.war", "--httpPort=8080"], "jenkins.war" },
        // A classpath that is not a class name is not taken for one.
        { "java", Jvm, ["java", "/opt/lib/*"], "" },
        { "python3", Python, ["/usr/bin/python3", "-u", "/srv/app/manage.py", "runserver", "0.0.0.0:8000"], "manage.py" },
        { "python3", Python, ["python3", "-m", "http.server", "8000"], "http.server" },
        { "python3", Python, ["python3", "-X", "dev", "-muvicorn", "main:app"], "uvicorn" },
        // A script run through its #! line: comm is the script, the executable the interpreter.
        { "gunicorn", Python, ["/usr/bin/python3", "/usr/bin/gunicorn", "--bind", "0.0.0.0:8000", "app:app"], "gunicorn" },
        { "python3", Python, ["python3", "-c", "import http.server; http.server.test()"], "" },
        { "node", "/usr/bin/node", ["node", "--require", "dotenv/config", "/srv/api/server.js", "--port", "3000"], "server.js" },
        { "node", "/usr/bin/node", ["node", "-e", "require('http').createServer().listen(3000)"], "" },
        { "dotnet", "/usr/share/dotnet/dotnet", ["dotnet", "/app/Api.dll", "--urls", "http://0.0.0.0:5000"], "Api.dll" },
        { "dotnet", "/usr/share/dotnet/dotnet", ["dotnet", "exec", "--runtimeconfig", "/app/Worker.runtimeconfig.json", "/app/Worker.dll"], "Worker.dll" },
        { "dotnet", "/usr/share/dotnet/dotnet", ["dotnet", "run", "--project", "/src/Api"], "" },
        { "ruby", "/usr/bin/ruby3.1", ["ruby", "-Ilib", "/usr/local/bin/rackup", "-p", "9292"], "rackup" },
        // Puma rewrites its title into one argument.
        { "ruby", "/usr/bin/ruby3.1", ["puma 6.4.0 (tcp://0.0.0.0:3000) [app]"], "puma" },
        { "perl", "/usr/bin/perl", ["/usr/bin/perl", "-w", "/usr/sbin/munin-node"], "munin-node" },
        { "php", "/usr/bin/php8.2", ["php", "-S", "0.0.0.0:8000", "-t", "public", "router.php"], "router.php" },
        { "php", "/usr/bin/php8.2", ["php", "artisan", "serve"], "artisan" },
        { "php-fpm8.2", "/usr/sbin/php-fpm8.2", ["php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"], "" },
        {
            "beam.smp", "/usr/lib/erlang/erts-13.2/bin/beam.smp",
            ["/usr/lib/erlang/erts-13.2/bin/beam.smp", "-W", "w", "-MBas", "ageffcbf", "-P", "1048576", "--", "-root", "/usr/lib/erlang", "-progname", "erl",
                "--", "-home", "/var/lib/rabbitmq", "--", "-pa", "-noshell", "-noinput", "-s", "rabbit", "boot", "-boot", "start_sasl"],
            "rabbit"
        },
        {
            "beam.smp", "/opt/shop/erts-14.0/bin/beam.smp",
            ["/opt/shop/erts-14.0/bin/beam.smp", "--", "-root", "/opt/shop", "-progname", "erl", "--", "-boot", "/opt/shop/releases/0.1.0/start"],
            "shop"
        },
        { "beam.smp", "/opt/couchdb/erts/bin/beam.smp", ["beam.smp", "--", "-progname", "couchdb", "--", "-home", "/opt/couchdb"], "couchdb" },
        // Not a runtime: the process name says it all already.
        { "nginx", "/usr/sbin/nginx", ["nginx: master process /usr/sbin/nginx"], "" },
        { "sshd", "/usr/sbin/sshd", ["/usr/sbin/sshd", "-D", "/srv/app.py"], "" },
        // Secrets are never the program.
        { "python3", Python, ["python3", "/tmp/a8f5f167f44f4964e6c998dee827110c.py"], "" },
        { "node", "/usr/bin/node", ["node", "secret-server.js"], "" },
        { "java", Jvm, ["java", "-jar", "/opt/app/password=hunter2.jar"], "" },
    };

    [Theory]
    [MemberData(nameof(Runtimes))]
    public void A_runtime_s_program_is_its_script_archive_class_or_module_by_name_only(string comm, string executable, string[] argv, string expected) =>
        Assert.Equal(expected, ProgramNames.Of(comm, executable, argv));

    [Fact]
    public void The_runtime_is_known_by_the_executable_then_argv0_then_the_process_name()
    {
        Assert.Equal(Runtime.Python, ProgramNames.RuntimeOf("/usr/bin/python3.12", ["gunicorn"], "gunicorn"));
        Assert.Equal(Runtime.Java, ProgramNames.RuntimeOf("", ["/opt/jdk/bin/java", "x.Main"], "java"));
        Assert.Equal(Runtime.Node, ProgramNames.RuntimeOf("", [], "node"));
        Assert.Equal(Runtime.None, ProgramNames.RuntimeOf("/usr/bin/pythonista", ["pythonista"], "pythonista"));
    }

    private static readonly Gen<string> Word = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz"], 1, 8];

    /// <summary>Tokens a command line may carry that must never leave the host, each with the part that must not show.</summary>
    private static readonly Gen<(string Token, string Core)> Secret = Gen.OneOf(
        Gen.String[Gen.Char["0123456789abcdef"], 18, 64].Select(h => "a1" + h).Select(h => (h, h)),
        Gen.String[Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"], 22, 48].Select(b => "Z9" + b).Select(b => (b, b)),
        Gen.Select(Gen.OneOf(Gen.Const("--password="), Gen.Const("token="), Gen.Const("API_KEY="), Gen.Const("db.key="), Gen.Const("-Dpasswd=")), Word)
            .Select((marker, value) => (marker + value, marker + value)),
        Gen.Select(Word, Gen.OneOf(Gen.Const("secret"), Gen.Const("Secret"), Gen.Const("password"), Gen.Const("Token")), Word)
            .Select((a, marker, b) => (a + marker + b, a + marker + b)));

    /// <summary>A secret as a runtime would take it for its program: bare, or as a script or archive path.</summary>
    private static readonly Gen<(string Token, string Core)> SecretArgument = Gen.Select(Secret,
            Gen.OneOf(Gen.Const(""), Gen.Const(".py"), Gen.Const(".jar"), Gen.Const(".js"), Gen.Const(".dll"), Gen.Const(".rb"), Gen.Const(".php")),
            Gen.OneOf(Gen.Const(""), Gen.Const("/srv/app/"), Gen.Const("./")))
        .Select((secret, extension, directory) => (directory + secret.Token + extension, secret.Core));

    private static readonly Gen<string> Ordinary = Gen.OneOf(
        Gen.OneOf(Gen.Const("-jar"), Gen.Const("-m"), Gen.Const("-cp"), Gen.Const("-u"), Gen.Const("--"), Gen.Const("exec"), Gen.Const("-s"),
            Gen.Const("-progname"), Gen.Const("-boot"), Gen.Const("-Xmx1g"), Gen.Const("-f"), Gen.Const("-r")),
        Word, Word.Select(w => w + ".py"), Word.Select(w => "/opt/" + w + ".jar"));

    private static readonly string[] Interpreters =
        ["java", "python3", "python3.12", "node", "dotnet", "ruby", "perl", "php", "php-fpm", "beam.smp", "/usr/lib/jvm/bin/java", "/usr/bin/python2.7"];

    [Fact]
    public void No_command_line_with_secret_looking_tokens_yields_a_program_containing_them() =>
        Gen.Select(Gen.OneOf<string>(Interpreters), Gen.OneOf(Ordinary.Select(o => (o, "")), SecretArgument).Array[1, 10])
            .Where((_, args) => args.Any(a => a.Item2.Length > 0))
            .Sample((interpreter, args) =>
            {
                string[] argv = [interpreter, .. args.Select(a => a.Item1)];
                var program = ProgramNames.Of(Path.GetFileName(interpreter), interpreter, argv);
                Assert.False(ProgramNames.LooksSecret(program), program);
                foreach (var (_, core) in args.Where(a => a.Item2.Length > 0))
                {
                    Assert.DoesNotContain(core, program, StringComparison.OrdinalIgnoreCase);
                }
            }, iter: 20_000);

    [Fact]
    public void A_program_is_a_bounded_plain_name_whatever_the_command_line() =>
        Gen.Select(Gen.OneOf<string>(Interpreters), Gen.String[Gen.Char.AlphaNumeric, 0, 40].Array[0, 8], Gen.String.Array[0, 4])
            .Sample((interpreter, plain, any) =>
            {
                var program = ProgramNames.Of(interpreter, interpreter, [interpreter, .. plain, .. any]);
                Assert.True(program.Length <= ProgramNames.MaxLength);
                Assert.DoesNotContain('/', program);
                Assert.False(program.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)), program);
            }, iter: 5_000);

    [Theory]
    [InlineData("org.apache.zookeeper.server.quorum.QuorumPeerMain", false)]
    [InlineData("org.apache.catalina.startup.Bootstrap", false)]
    [InlineData("kafka_2.13-3.6.0.jar", false)]
    [InlineData("AbstractApplicationContextLauncher", false)]
    [InlineData("3f6d2c1b0a9e8d7c6b5a4938", true)]
    [InlineData("ghp_R2D2c3po4Bb8Ee9Ff0Gg1Hh2Ii3Jj4Kk5", true)]
    [InlineData("db_password=x", true)]
    [InlineData("mytoken", true)]
    public void Secret_looking_tokens_are_told_from_names(string token, bool secret) => Assert.Equal(secret, ProgramNames.LooksSecret(token));
}
