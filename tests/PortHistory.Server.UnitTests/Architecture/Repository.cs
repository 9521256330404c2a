using System.Xml.Linq;

namespace PortHistory.Server.UnitTests.Architecture;

/// <summary>The repository this test build came from: its root, its project files and its source files.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The project file of a project under src/, by its name.</summary>
    public static XDocument Project(string name) => XDocument.Load(PathOf($"src/{name}/{name}.csproj"));

    /// <summary>The names of the projects a project file references directly.</summary>
    public static IReadOnlyList<string> ProjectReferences(XDocument project) =>
        [.. Includes(project, "ProjectReference").Select(include => Path.GetFileNameWithoutExtension(include.Replace('\\', '/')))];

    /// <summary>The packages and shared frameworks a project file references directly.</summary>
    public static IReadOnlyList<string> PackageAndFrameworkReferences(XDocument project) =>
        [.. Includes(project, "PackageReference").Concat(Includes(project, "FrameworkReference"))];

    /// <summary>A project under src/ and every project it references, directly or through others.</summary>
    public static IReadOnlyList<string> ProjectClosure(string name)
    {
        var seen = new List<string>();
        var next = new Queue<string>([name]);
        while (next.TryDequeue(out var current))
        {
            if (seen.Contains(current)) continue;
            seen.Add(current);
            foreach (var reference in ProjectReferences(Project(current))) next.Enqueue(reference);
        }

        return seen;
    }

    /// <summary>Every file with the extension under a top-level folder, build output left out, as repository-relative paths.</summary>
    public static IEnumerable<string> SourceFiles(string folder, string extension) =>
        Directory.EnumerateFiles(PathOf(folder), $"*{extension}", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => !path.Split('/').Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal);

    private static IEnumerable<string> Includes(XDocument project, string item) =>
        project.Descendants(item).Select(e => (string?)e.Attribute("Include")).OfType<string>();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PortHistory.sln"))) return directory.FullName;
        }

        throw new DirectoryNotFoundException($"no PortHistory.sln above {AppContext.BaseDirectory}");
    }
}
