using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using PortHistory.Testing;
using YamlDotNet.RepresentationModel;

namespace PortHistory.Server.Tests;

/// <summary>Reading the manifests: objects, containers, settings, and the programs the checks run.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class KubernetesManifestTests
{
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
