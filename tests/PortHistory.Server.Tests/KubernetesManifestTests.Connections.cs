using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using PortHistory.Testing;
using YamlDotNet.RepresentationModel;

namespace PortHistory.Server.Tests;

/// <summary>Who may reach whom: egress to known peers only, PostgreSQL over verified TLS, certificates that name the services.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class KubernetesManifestTests
{
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
}
