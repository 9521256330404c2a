using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using PortHistory.Testing;
using YamlDotNet.RepresentationModel;

namespace PortHistory.Server.Tests;

/// <summary>
/// The manifests in k8s/ are valid Kubernetes objects (checked against the API schemas by kubernetes-models, from
/// npm) and hold what operators expect of them: no root, no writable root filesystem, no privilege escalation, no
/// capabilities, probes, pinned images, requests and limits, silo ports closed to everyone but the server pods; no
/// service account tokens; TLS for callers, agents and PostgreSQL; a credential per node; egress only to known peers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class KubernetesManifestTests
{
    private static readonly string Manifests = Path.Combine(RegistryData.RepositoryRoot, "k8s");
    private static readonly string Validator = Path.Combine(RegistryData.RepositoryRoot, "deploy", "k8s-schema");

    [Fact]
    public async Task Every_manifest_is_valid_against_the_Kubernetes_schemas()
    {
        var (exit, output) = await ValidateAsync(Manifests);
        Assert.True(exit == 0, output);
        foreach (var expected in new[] { "Deployment/porthistory", "StatefulSet/porthistory-postgres", "DaemonSet/porthistory-agent",
                     "NetworkPolicy/porthistory", "NetworkPolicy/porthistory-postgres", "NetworkPolicy/porthistory-agent",
                     "PodDisruptionBudget/porthistory", "ConfigMap/porthistory-postgres-config", "Secret/porthistory-postgres" })
        {
            Assert.Matches($@"(?m)^valid .*: {System.Text.RegularExpressions.Regex.Escape(expected)}$", output);
        }
    }

    [Fact]
    public async Task The_validator_refuses_an_invalid_object()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"porthistory-broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(broken, """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: broken
            spec:
              selector: {}
              template:
                spec:
                  containers:
                    - image: porthistory/server:1.0.0
                      resources:
                        limits:
                          memory: lots
            """);
        try
        {
            var (exit, output) = await ValidateAsync(broken);
            Assert.Equal(1, exit);
            Assert.Contains("INVALID", output);
            Assert.Contains("memory", output);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void Server_and_PostgreSQL_run_unprivileged_with_probes_pinned_images_and_limits()
    {
        foreach (var (file, kind) in new[] { ("server.yaml", "Deployment"), ("postgres.yaml", "StatefulSet") })
        {
            var workload = Objects(file).Single(o => Text(o, "kind") == kind);
            var pod = Node(workload, "spec", "template", "spec");
            Assert.Equal("true", Text(pod, "securityContext", "runAsNonRoot"));
            Assert.Equal("RuntimeDefault", Text(pod, "securityContext", "seccompProfile", "type"));
            foreach (var container in ((YamlSequenceNode)Node(pod, "containers")).Cast<YamlMappingNode>())
            {
                var name = $"{file}: {Text(container, "name")}";
                Assert.True(Text(container, "securityContext", "readOnlyRootFilesystem") == "true", name);
                Assert.True(Text(container, "securityContext", "allowPrivilegeEscalation") == "false", name);
                Assert.Equal(["ALL"], ((YamlSequenceNode)Node(container, "securityContext", "capabilities", "drop")).Select(n => n.ToString()));
                Assert.True(Has(container, "startupProbe") && Has(container, "readinessProbe") && Has(container, "livenessProbe"), name);
                var image = Text(container, "image");
                Assert.True(image.Contains(':', StringComparison.Ordinal) && !image.EndsWith(":latest", StringComparison.Ordinal), $"{name}: image {image} is not pinned");
                foreach (var bound in new[] { "requests", "limits" })
                {
                    Assert.True(Has(container, "resources", bound, "cpu") && Has(container, "resources", bound, "memory"), $"{name}: {bound}");
                }
            }
        }

        var agent = Objects("agent.yaml").Single(o => Text(o, "kind") == "DaemonSet");
        var agentContainer = (YamlMappingNode)((YamlSequenceNode)Node(agent, "spec", "template", "spec", "containers"))[0];
        Assert.True(Has(agentContainer, "resources", "limits", "memory") && Has(agentContainer, "resources", "limits", "cpu"));
        Assert.DoesNotContain(":latest", Text(agentContainer, "image"), StringComparison.Ordinal);
    }

    [Fact]
    public void Silo_ports_listen_on_the_pod_address_with_cluster_TLS_and_only_server_pods_reach_them()
    {
        var server = Objects("server.yaml");
        var container = (YamlMappingNode)((YamlSequenceNode)Node(server.Single(o => Text(o, "kind") == "Deployment"), "spec", "template", "spec", "containers"))[0];
        var environment = ((YamlSequenceNode)Node(container, "env")).Cast<YamlMappingNode>().ToDictionary(e => Text(e, "name"), e => e);
        Assert.Equal("false", Text(environment["PortHistory__Silo__ListenOnAnyHostAddress"], "value"));
        Assert.Equal("status.podIP", Text(environment["PortHistory__Silo__AdvertisedIPAddress"], "valueFrom", "fieldRef", "fieldPath"));
        foreach (var setting in new[] { "CertificatePath", "KeyPath", "AuthorityPath" })
        {
            Assert.StartsWith("/etc/porthistory/cluster-tls/", Text(environment[$"PortHistory__Silo__Tls__{setting}"], "value"), StringComparison.Ordinal);
        }

        var policy = server.Single(o => Text(o, "kind") == "NetworkPolicy");
        Assert.Equal("porthistory", Text(policy, "spec", "podSelector", "matchLabels", "app.kubernetes.io/name"));
        var rules = ((YamlSequenceNode)Node(policy, "spec", "ingress")).Cast<YamlMappingNode>().ToList();
        var siloPorts = new[] { "11111", "30000" };
        foreach (var rule in rules)
        {
            var ports = ((YamlSequenceNode)Node(rule, "ports")).Select(p => Text((YamlMappingNode)p, "port")).ToList();
            if (!ports.Intersect(siloPorts).Any()) continue;
            // A rule that opens a silo port names its peers, and they are server pods.
            var from = ((YamlSequenceNode)Node(rule, "from")).Cast<YamlMappingNode>().ToList();
            Assert.NotEmpty(from);
            Assert.All(from, peer => Assert.Equal("porthistory", Text(peer, "podSelector", "matchLabels", "app.kubernetes.io/name")));
        }

        Assert.Contains(rules, rule => ((YamlSequenceNode)Node(rule, "ports")).Any(p => siloPorts.Contains(Text((YamlMappingNode)p, "port"))));
    }

    [Fact]
    public void Each_silo_announces_its_metrics_port_and_only_the_monitoring_namespace_reaches_it()
    {
        var server = Objects("server.yaml");
        var template = Node(server.Single(o => Text(o, "kind") == "Deployment"), "spec", "template");
        var container = (YamlMappingNode)((YamlSequenceNode)Node(template, "spec", "containers"))[0];
        var environment = ((YamlSequenceNode)Node(container, "env")).Cast<YamlMappingNode>().ToDictionary(e => Text(e, "name"), e => e);
        var port = new Uri(Text(environment["Kestrel__Endpoints__Metrics__Url"], "value")).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains((YamlSequenceNode)Node(container, "ports"), p => Text(p, "name") == "metrics" && Text(p, "containerPort") == port);
        Assert.Equal(("true", port, "/metrics"),
            (Text(template, "metadata", "annotations", "prometheus.io/scrape"), Text(template, "metadata", "annotations", "prometheus.io/port"),
                Text(template, "metadata", "annotations", "prometheus.io/path")));

        var policy = server.Single(o => Text(o, "kind") == "NetworkPolicy");
        var rules = ((YamlSequenceNode)Node(policy, "spec", "ingress")).Cast<YamlMappingNode>()
            .Where(rule => ((YamlSequenceNode)Node(rule, "ports")).Any(p => Text(p, "port") == port)).ToList();
        var metricsRule = Assert.Single(rules);
        var from = Assert.Single((YamlSequenceNode)Node(metricsRule, "from"));
        Assert.Equal("monitoring", Text(from, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
        Assert.Equal([port], ((YamlSequenceNode)Node(metricsRule, "ports")).Select(p => Text(p, "port")));
    }

    [Fact]
    public void No_pod_mounts_a_service_account_token()
    {
        var workloads = AllObjects().Where(o => Has(o, "spec", "template", "spec")).ToList();
        Assert.Equal(["DaemonSet", "Deployment", "StatefulSet"], workloads.Select(o => Text(o, "kind")).Order(StringComparer.Ordinal));
        Assert.All(workloads, o => Assert.True(
            Has(o, "spec", "template", "spec", "automountServiceAccountToken") && Text(o, "spec", "template", "spec", "automountServiceAccountToken") == "false",
            $"{Text(o, "kind")}/{Text(o, "metadata", "name")} mounts a service account token"));
    }

    [Fact]
    public void The_server_serves_TLS_from_its_Secret_and_cleartext_only_on_the_metrics_and_probe_ports()
    {
        var server = Objects("server.yaml");
        var deployment = server.Single(o => Text(o, "kind") == "Deployment");
        var container = Containers(deployment).Single();
        var environment = EnvironmentOf(container);
        var endpoints = environment.Keys.Select(k => EndpointUrl().Match(k)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => new Uri(Value(environment[m.Value])));
        foreach (var name in new[] { "Grpc", "Http" })
        {
            Assert.Equal("https", endpoints[name].Scheme);
            foreach (var setting in new[] { "Path", "KeyPath" })
            {
                var file = Value(environment[$"Kestrel__Endpoints__{name}__Certificate__{setting}"]);
                Assert.Equal("porthistory-server-tls", Text(VolumeOf(deployment, container, file), "secret", "secretName"));
            }
        }

        var cleartext = endpoints.Where(e => e.Value.Scheme != "https").Select(e => e.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Health", "Metrics"], cleartext);
        var health = endpoints["Health"].Port.ToString(CultureInfo.InvariantCulture);
        Assert.Equal("Http2", Value(environment["Kestrel__Endpoints__Health__Protocols"]));
        // The kubelet's gRPC probes cannot speak TLS: they use the health port, which no Service offers and no peer may reach.
        Assert.All(new[] { "startupProbe", "readinessProbe" }, probe => Assert.Equal(health, Text(container, probe, "grpc", "port")));
        var policy = server.Single(o => Text(o, "kind") == "NetworkPolicy");
        var admitted = Sequence(policy, "spec", "ingress").SelectMany(rule => Sequence(rule, "ports")).Select(p => Text(p, "port")).ToList();
        Assert.DoesNotContain(health, admitted);
        // Every port the Service offers is a TLS endpoint.
        var service = server.Single(o => Text(o, "kind") == "Service");
        var containerPorts = Sequence(container, "ports").ToDictionary(p => Text(p, "name"), p => Text(p, "containerPort"));
        var tlsPorts = endpoints.Where(e => e.Value.Scheme == "https").Select(e => e.Value.Port.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        Assert.All(Sequence(service, "spec", "ports"), port => Assert.Contains(containerPorts[Text(port, "targetPort")], tlsPorts));
    }

    [Fact]
    public void The_agent_talks_https_to_the_server_Service_trusting_only_the_services_authority()
    {
        var (service, port) = ServerService();
        var agent = Objects("agent.yaml").Single(o => Text(o, "kind") == "DaemonSet");
        var container = Containers(agent).Single();
        var server = new Uri(Argument(container, "--server")!);
        Assert.Equal(("https", service, port), (server.Scheme, server.Host, server.Port.ToString(CultureInfo.InvariantCulture)));
        var authority = Value(EnvironmentOf(container)["SSL_CERT_FILE"]);
        Assert.Equal("porthistory-service-ca", Text(VolumeOf(agent, container, authority), "configMap", "name"));
        // No private key reaches the nodes: the only Secret an agent mounts is its enrollment secret.
        var secrets = Sequence(agent, "spec", "template", "spec", "volumes").Where(v => Has(v, "secret")).Select(v => Text(v, "secret", "secretName")).ToList();
        Assert.Equal(["porthistory-agent-enroll"], secrets);
    }

    [Fact]
    public void Agents_enroll_each_node_and_keep_its_credential_on_the_node_without_a_shared_token()
    {
        var agent = Objects("agent.yaml").Single(o => Text(o, "kind") == "DaemonSet");
        var container = Containers(agent).Single();
        Assert.Null(Argument(container, "--token"));
        Assert.Null(Argument(container, "--token-file"));
        Assert.DoesNotContain("PORTHISTORY_TOKEN", EnvironmentOf(container).Keys);
        var secret = Argument(container, "--enroll-secret-file") ?? throw new Xunit.Sdk.XunitException("the agent does not enroll");
        Assert.Equal("porthistory-agent-enroll", Text(VolumeOf(agent, container, secret), "secret", "secretName"));
        // The agent's own default when the option is absent.
        var credential = Argument(container, "--credential-file") ?? "/var/lib/porthistory-agent/credential";
        var store = VolumeOf(agent, container, credential);
        Assert.Equal("/var/lib/porthistory-agent", Text(store, "hostPath", "path"));
        var mount = Sequence(container, "volumeMounts").Single(m => Text(m, "name") == Text(store, "name"));
        Assert.False(Has(mount, "readOnly") && Text(mount, "readOnly") == "true", "the credential's volume is read-only");
    }

    [Fact]
    public void Each_workload_may_reach_only_its_peers_and_DNS()
    {
        var expected = new Dictionary<string, string[]>
        {
            ["porthistory"] = ["dns 53/TCP", "dns 53/UDP", "pods porthistory 11111/TCP", "pods porthistory 30000/TCP", "pods porthistory-postgres 5432/TCP"],
            ["porthistory-agent"] = ["dns 53/TCP", "dns 53/UDP", "pods porthistory 7710/TCP"],
            ["porthistory-postgres"] = [],
        };
        var policies = AllObjects().Where(o => Text(o, "kind") == "NetworkPolicy").ToList();
        foreach (var (workload, peers) in expected)
        {
            var policy = Assert.Single(policies, p => Text(p, "spec", "podSelector", "matchLabels", "app.kubernetes.io/name") == workload);
            Assert.Contains("Egress", ((YamlSequenceNode)Node(policy, "spec", "policyTypes")).Select(t => t.ToString()));
            var allowed = Sequence(policy, "spec", "egress").SelectMany(rule =>
            {
                // A rule without "to" lets the pod reach anything.
                var to = Has(rule, "to") ? Sequence(rule, "to").Select(Peer).ToList() : ["anywhere"];
                return to.SelectMany(peer => Sequence(rule, "ports").Select(p => $"{peer} {Text(p, "port")}/{(Has(p, "protocol") ? Text(p, "protocol") : "TCP")}"));
            });
            Assert.Equal(peers, allowed.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void The_server_connects_to_PostgreSQL_over_verified_TLS_as_a_role_that_is_no_superuser()
    {
        var connection = new NpgsqlConnectionStringBuilder(ExampleSecret("connection-string"));
        Assert.Equal(SslMode.VerifyFull, connection.SslMode);
        Assert.Equal(Text(Objects("postgres.yaml").Single(o => Text(o, "kind") == "Service"), "metadata", "name"), connection.Host);
        var deployment = Objects("server.yaml").Single(o => Text(o, "kind") == "Deployment");
        Assert.Equal("porthistory-service-ca", Text(VolumeOf(deployment, Containers(deployment).Single(), connection.RootCertificate!), "configMap", "name"));

        var statefulSet = Objects("postgres.yaml").Single(o => Text(o, "kind") == "StatefulSet");
        var postgres = Containers(statefulSet).Single();
        var superuser = Value(EnvironmentOf(postgres)["POSTGRES_USER"]);
        Assert.NotEqual(superuser, connection.Username);
        var settings = Settings(postgres);
        Assert.Equal("on", settings["ssl"]);
        foreach (var file in new[] { "ssl_cert_file", "ssl_key_file" })
        {
            Assert.Equal("porthistory-postgres-tls", Text(VolumeOf(statefulSet, postgres, settings[file]), "secret", "secretName"));
        }

        // Over the network: TLS only, the server's role only, never trust.
        var rules = HbaRules().ToList();
        Assert.DoesNotContain(rules, r => r.Method == "trust");
        var network = rules.Where(r => r.Type != "local").ToList();
        Assert.NotEmpty(network);
        Assert.All(network, r => Assert.Equal(("hostssl", connection.Username), (r.Type, r.User)));
        // The role the image's first start creates: no superuser, owning the database the server names.
        var script = ConfigData("10-porthistory-role.sh");
        Assert.Matches($@"CREATE ROLE {connection.Username} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE\b", script);
        Assert.Contains($"CREATE DATABASE {connection.Database} OWNER {connection.Username};", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_certificates_name_the_services_as_the_manifests_address_them()
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-service-tls-").FullName;
        try
        {
            var tls = await MakeCertificatesAsync(directory);
            var agent = Containers(Objects("agent.yaml").Single(o => Text(o, "kind") == "DaemonSet")).Single();
            var postgres = new NpgsqlConnectionStringBuilder(ExampleSecret("connection-string")).Host!;
            foreach (var (certificate, name) in new[] { ("server", new Uri(Argument(agent, "--server")!).Host), ("postgres", postgres) })
            {
                var (verified, verification) = await RunAsync("openssl", tls, "verify", "-CAfile", "ca.crt", $"{certificate}.crt");
                Assert.True(verified == 0, verification);
                var (named, check) = await RunAsync("openssl", tls, "x509", "-in", $"{certificate}.crt", "-noout", "-checkhost", name);
                Assert.True(named == 0 && check.Contains("does match", StringComparison.Ordinal), check);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tls, $"{certificate}.key")));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// PostgreSQL run with the manifest's settings, pg_hba.conf and first-start script (paths mapped to a temporary
    /// directory), and the certificates k8s/make-certificates.sh makes: the connection string of the example Secret
    /// connects, over TLS, as a role that is no superuser and owns its database; without TLS, or as the superuser over
    /// the network, nothing connects.
    /// </summary>
    [Fact]
    public async Task PostgreSQL_configured_as_the_manifest_says_admits_the_server_role_over_TLS_only()
    {
        // pg_hba.conf lets the postgres OS user in as the superuser by peer: the first-start script needs that user.
        if (Environment.UserName != "root") return;
        var root = Directory.CreateTempSubdirectory("porthistory-postgres-manifest-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).First();
        var data = Path.Combine(root, "data");
        var socket = Path.Combine(root, "run");
        try
        {
            var tls = await MakeCertificatesAsync(Path.Combine(root, "certificates"));
            var statefulSet = Objects("postgres.yaml").Single(o => Text(o, "kind") == "StatefulSet");
            var container = Containers(statefulSet).Single();
            // Each mount of the manifest becomes a directory here, holding what Kubernetes would put there.
            var mounts = new Dictionary<string, string>();
            foreach (var mount in Sequence(container, "volumeMounts"))
            {
                var local = Directory.CreateDirectory(Path.Combine(root, "mounts", Text(mount, "name"))).FullName;
                mounts[Text(mount, "mountPath")] = local;
                var volume = Sequence(statefulSet, "spec", "template", "spec", "volumes").SingleOrDefault(v => Text(v, "name") == Text(mount, "name"));
                if (volume is not null && Has(volume, "configMap"))
                {
                    foreach (var item in Sequence(volume, "configMap", "items")) await File.WriteAllTextAsync(Path.Combine(local, Text(item, "path")), ConfigData(Text(item, "key")));
                }
                else if (volume is not null && Has(volume, "secret") && Text(volume, "secret", "secretName") == "porthistory-postgres-tls")
                {
                    File.Copy(Path.Combine(tls, "postgres.crt"), Path.Combine(local, "tls.crt"));
                    File.Copy(Path.Combine(tls, "postgres.key"), Path.Combine(local, "tls.key"));
                }
            }

            string Local(string path) => mounts.Where(m => path.StartsWith(m.Key + "/", StringComparison.Ordinal))
                .Select(m => Path.Combine(m.Value, path[(m.Key.Length + 1)..])).Single();
            Directory.CreateDirectory(data);
            Directory.CreateDirectory(socket);
            Assert.Equal(0, (await RunAsync("chown", "/", "-R", "postgres:postgres", data, socket, Path.Combine(root, "mounts"))).Exit);
            // As the secret volume holds it (defaultMode 0440, the pod's fsGroup): owned by root, readable by the group.
            var key = Local(Settings(container)["ssl_key_file"]);
            Assert.Equal(0, (await RunAsync("chown", "/", "root:postgres", key)).Exit);
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.GroupRead);
            File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await AsPostgresAsync(Path.Combine(bin, "initdb"), "-D", data, "-U", "postgres", "--no-sync");
            var port = PostgresServer.FreePort();
            var options = string.Join(' ', Settings(container).Select(s => $"-c {s.Key}={(s.Key.EndsWith("_file", StringComparison.Ordinal) ? Local(s.Value) : s.Value)}"));
            await AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", data, "-l", Path.Combine(data, "log"), "-w", "-o",
                $"{options} -p {port} -c listen_addresses=127.0.0.1 -k {socket}", "start");
            try
            {
                var script = Local("/docker-entrypoint-initdb.d/10-porthistory-role.sh");
                // As the image's entrypoint does: sourced by bash, as the postgres user, with the password in the environment.
                await AsPostgresAsync("env", $"PGHOST={socket}", $"PGPORT={port}", $"PORTHISTORY_PASSWORD={ExampleSecret("password")}",
                    "bash", "-c", $"set -Eeo pipefail; source {script}");

                var server = new NpgsqlConnectionStringBuilder(ExampleSecret("connection-string"))
                {
                    // The name is checked against the certificate in the test above; here the address is local.
                    Host = "127.0.0.1", Port = port, SslMode = SslMode.VerifyCA, RootCertificate = Path.Combine(tls, "ca.crt"), Pooling = false,
                };
                await using (var connection = new NpgsqlConnection(server.ConnectionString))
                {
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand(
                        "SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, s.ssl, pg_get_userbyid(d.datdba) = current_user " +
                        "FROM pg_roles r, pg_stat_ssl s, pg_database d " +
                        "WHERE r.rolname = current_user AND s.pid = pg_backend_pid() AND d.datname = current_database()", connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    Assert.True(await reader.ReadAsync());
                    Assert.Equal((false, false, false, true, true),
                        (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4)));
                }

                var refused = new[]
                {
                    new NpgsqlConnectionStringBuilder(server.ConnectionString) { SslMode = SslMode.Disable, RootCertificate = null },
                    new NpgsqlConnectionStringBuilder(server.ConnectionString)
                    {
                        Username = Value(EnvironmentOf(container)["POSTGRES_USER"]), Password = ExampleSecret("superuser-password"), Database = "postgres",
                    },
                };
                foreach (var attempt in refused)
                {
                    await using var connection = new NpgsqlConnection(attempt.ConnectionString);
                    var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
                    Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, error.SqlState);
                }
            }
            finally
            {
                await AsPostgresAsync(Path.Combine(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(int Exit, string Output)> ValidateAsync(string path)
    {
        if (!Directory.Exists(Path.Combine(Validator, "node_modules")))
        {
            var (installed, log) = await RunAsync("npm", Validator, "ci", "--no-audit", "--no-fund");
            Assert.True(installed == 0, $"npm ci in {Validator} failed:\n{log}");
        }

        return await RunAsync("node", Validator, "validate.mjs", path);
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + await error);
    }

    [GeneratedRegex(@"^Kestrel__Endpoints__(\w+)__Url$")]
    private static partial Regex EndpointUrl();

    private static async Task<string> MakeCertificatesAsync(string directory)
    {
        var (exit, output) = await RunAsync("bash", RegistryData.RepositoryRoot, Path.Combine("k8s", "make-certificates.sh"), directory);
        Assert.True(exit == 0, output);
        return directory;
    }

    private static async Task AsPostgresAsync(string program, params string[] arguments)
    {
        var (exit, output) = await RunAsync("runuser", "/", ["-u", "postgres", "--", program, .. arguments]);
        Assert.True(exit == 0, $"{program} {string.Join(' ', arguments)}: {output}");
    }

    private static IEnumerable<YamlMappingNode> AllObjects() =>
        Directory.GetFiles(Manifests, "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml").SelectMany(f => Objects(Path.GetFileName(f)));

    private static IEnumerable<YamlMappingNode> Sequence(YamlNode node, params string[] path) => ((YamlSequenceNode)Node(node, path)).Cast<YamlMappingNode>();

    private static IEnumerable<YamlMappingNode> Containers(YamlNode workload) => Sequence(workload, "spec", "template", "spec", "containers");

    private static Dictionary<string, YamlMappingNode> EnvironmentOf(YamlNode container) =>
        Sequence(container, "env").ToDictionary(e => Text(e, "name"), e => e);

    /// <summary>An environment variable's literal value (not one taken from a Secret or ConfigMap).</summary>
    private static string Value(YamlNode variable) => Text(variable, "value");

    /// <summary>The value after an option in the container's arguments, or null.</summary>
    private static string? Argument(YamlNode container, string option)
    {
        var arguments = ((YamlSequenceNode)Node(container, "args")).Select(a => ((YamlScalarNode)a).Value ?? "").ToList();
        var at = arguments.IndexOf(option);
        return at < 0 ? null : arguments[at + 1];
    }

    /// <summary>PostgreSQL's "-c name=value" arguments.</summary>
    private static Dictionary<string, string> Settings(YamlNode container)
    {
        var arguments = ((YamlSequenceNode)Node(container, "args")).Select(a => ((YamlScalarNode)a).Value ?? "").ToList();
        return arguments.Zip(arguments.Skip(1)).Where(p => p.First == "-c").Select(p => p.Second.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    /// <summary>The pod volume whose mount holds <paramref name="file"/>.</summary>
    private static YamlMappingNode VolumeOf(YamlNode workload, YamlNode container, string file)
    {
        var mount = Sequence(container, "volumeMounts").SingleOrDefault(m => file.StartsWith(Text(m, "mountPath") + "/", StringComparison.Ordinal))
                    ?? throw new Xunit.Sdk.XunitException($"no volume is mounted where {file} is");
        return Sequence(workload, "spec", "template", "spec", "volumes").Single(v => Text(v, "name") == Text(mount, "name"));
    }

    /// <summary>The Service's in-cluster name (name.namespace.svc) and its gRPC port.</summary>
    private static (string Name, string Port) ServerService()
    {
        var service = Objects("server.yaml").Single(o => Text(o, "kind") == "Service");
        return ($"{Text(service, "metadata", "name")}.{Text(service, "metadata", "namespace")}.svc",
            Text(Sequence(service, "spec", "ports").Single(p => Text(p, "name") == "grpc"), "port"));
    }

    /// <summary>A NetworkPolicy peer as the tests name it; anything but pods of this namespace or the cluster's DNS fails.</summary>
    private static string Peer(YamlMappingNode peer)
    {
        if (Has(peer, "namespaceSelector"))
        {
            Assert.Equal(("kube-system", "kube-dns"), (Text(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"),
                Text(peer, "podSelector", "matchLabels", "k8s-app")));
            return "dns";
        }

        Assert.Equal(["podSelector"], peer.Children.Keys.Select(k => k.ToString()));
        return $"pods {Text(peer, "podSelector", "matchLabels", "app.kubernetes.io/name")}";
    }

    private static string ExampleSecret(string key) => Text(Objects("secret.example.yaml").Single(), "stringData", key);

    private static string ConfigData(string key) =>
        Text(Objects("postgres.yaml").Single(o => Text(o, "kind") == "ConfigMap"), "data", key);

    private static IEnumerable<(string Type, string Database, string User, string Method)> HbaRules()
    {
        foreach (var line in ConfigData("pg_hba.conf").Split('\n'))
        {
            var fields = line.Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            // local has no address column.
            yield return (fields[0], fields[1], fields[2], fields[0] == "local" ? fields[3] : fields[4]);
        }
    }

    private static List<YamlMappingNode> Objects(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Manifests, file));
        stream.Load(reader);
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children.TryGetValue(new YamlScalarNode(key), out var child)
                ? child
                : throw new Xunit.Sdk.XunitException($"no {string.Join('.', path)}");
        }

        return node;
    }

    private static bool Has(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var child)) return false;
            node = child;
        }

        return true;
    }

    private static string Text(YamlNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value ?? "";
}
