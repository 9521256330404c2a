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
}
