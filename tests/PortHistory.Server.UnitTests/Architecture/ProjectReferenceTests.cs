using System.Reflection;

namespace PortHistory.Server.UnitTests.Architecture;

/// <summary>
/// The layers only look down: the rules of the project graph, checked in the project files (what the build is told) and
/// in the compiled assemblies (what the code uses).
/// </summary>
public sealed class ProjectReferenceTests
{
    /// <summary>Assembly name prefixes of the hosting and storage frameworks the pure libraries must not know.</summary>
    private static readonly string[] Frameworks = ["Orleans", "Microsoft.Orleans", "Microsoft.AspNetCore", "Grpc.AspNetCore", "Npgsql"];

    private static readonly string[] ServerProjects = ["PortHistory.Server", "PortHistory.Server.Application", "PortHistory.Server.Persistence"];

    [Fact]
    public void The_application_project_references_neither_persistence_nor_the_server_nor_Npgsql()
    {
        var project = Repository.Project("PortHistory.Server.Application");
        Assert.DoesNotContain("PortHistory.Server.Persistence", Repository.ProjectReferences(project));
        Assert.DoesNotContain("PortHistory.Server", Repository.ProjectReferences(project));
        Assert.DoesNotContain(Repository.PackageAndFrameworkReferences(project), r => r.StartsWith("Npgsql", StringComparison.Ordinal));

        // Nor through a project it references.
        var closure = Repository.ProjectClosure("PortHistory.Server.Application");
        Assert.DoesNotContain("PortHistory.Server.Persistence", closure);
        Assert.DoesNotContain("PortHistory.Server", closure);
    }

    [Fact]
    public void The_compiled_application_assembly_references_neither_persistence_nor_the_server_nor_Npgsql()
    {
        var references = ReferencedNames(typeof(Server.Application.Sightings.SightingIngest).Assembly);
        Assert.Contains("PortHistory.Grains", references);
        Assert.DoesNotContain("PortHistory.Server.Persistence", references);
        Assert.DoesNotContain("PortHistory.Server", references);
        Assert.DoesNotContain(references, name => name.StartsWith("Npgsql", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("PortHistory.Registry")]
    [InlineData("PortHistory.Observations")]
    [InlineData("PortHistory.Contracts")]
    public void A_pure_library_project_references_no_Orleans_ASP_NET_or_Npgsql(string name)
    {
        foreach (var project in Repository.ProjectClosure(name))
        {
            var references = Repository.PackageAndFrameworkReferences(Repository.Project(project));
            var offending = references.Where(IsFramework).ToList();
            Assert.True(offending.Count == 0, $"{name} (through {project}) references {string.Join(", ", offending)}");
        }
    }

    [Theory]
    [InlineData(typeof(Registry.History.RegistryHistory))]
    [InlineData(typeof(Observations.VerdictOptions))]
    [InlineData(typeof(Contracts.V1.GetPortRequest))]
    public void A_compiled_pure_library_references_no_Orleans_ASP_NET_or_Npgsql(Type member)
    {
        var offending = ReferencedNames(member.Assembly).Where(IsFramework).ToList();
        Assert.True(offending.Count == 0, $"{member.Assembly.GetName().Name} references {string.Join(", ", offending)}");
    }

    [Fact]
    public void The_grains_reference_no_server_project()
    {
        var closure = Repository.ProjectClosure("PortHistory.Grains");
        Assert.Empty(closure.Intersect(ServerProjects));

        var references = ReferencedNames(typeof(Grains.Ports.PortGrain).Assembly);
        Assert.Empty(references.Intersect(ServerProjects));
    }

    private static bool IsFramework(string name) =>
        Frameworks.Any(prefix => name == prefix || name.StartsWith(prefix + ".", StringComparison.Ordinal));

    private static IReadOnlyList<string> ReferencedNames(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name).OfType<string>()];
}
