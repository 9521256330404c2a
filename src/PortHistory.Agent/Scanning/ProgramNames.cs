using System.Text.RegularExpressions;

namespace PortHistory.Agent.Scanning;

/// <summary>
/// The main program a runtime process runs ("java -jar zookeeper.jar" → "zookeeper.jar"), from its command line. Only a
/// file or module name leaves the host: never a directory, never an argument, and never a token that looks like a
/// secret (a credential passed on the command line must not become the program). Anything doubtful gives "".
/// </summary>
public static partial class ProgramNames
{
    public const int MaxLength = 128;

    /// <summary>The program, or "" when the process is no runtime or its program cannot be told safely.</summary>
    public static string Of(string comm, string executable, IReadOnlyList<string> argv)
    {
        var runtime = RuntimeOf(executable, argv, comm);
        if (runtime == Runtime.None || argv.Count == 0) return "";
        var chosen = argv.Count == 1 && argv[0].Contains(' ') ? RuntimeCommandLines.FromTitle(argv[0]) : RuntimeCommandLines.Program(runtime, argv);
        return Safe(chosen);
    }

    /// <summary>Which runtime the executable is (else argv[0], else the process name): the first that names one.</summary>
    public static Runtime RuntimeOf(string executable, IReadOnlyList<string> argv, string comm)
    {
        foreach (var candidate in new[] { executable, argv.Count > 0 ? argv[0] : "", comm })
        {
            if (RuntimeNamed(FileName(candidate)) is var runtime and not Runtime.None) return runtime;
        }

        return Runtime.None;
    }

    /// <summary>Whether a token would give away something secret if sent: credentials by name, or a long random-looking string.</summary>
    public static bool LooksSecret(string token)
    {
        foreach (var marker in SecretMarkers)
        {
            if (token.Contains(marker, StringComparison.OrdinalIgnoreCase)) return true;
        }

        foreach (var part in token.Split(Separators, StringSplitOptions.RemoveEmptyEntries))
        {
            // Hex digests, base64 keys and API tokens mix letters and digits over a long run; names rarely do.
            if (part.Length >= 16 && part.Any(char.IsAsciiDigit) && part.Any(char.IsAsciiLetter)) return true;
            if (part.Length >= 24 && BitsPerChar(part) >= 4.0) return true;
        }

        return false;
    }

    private static readonly string[] SecretMarkers = ["password", "passwd", "pwd=", "token", "secret", "key=", "apikey", "api_key", "credential", "auth="];
    private static readonly char[] Separators = ['.', '_', '-', '/', ':', '@', '+', '$'];

    internal static Runtime RuntimeNamed(string name) => name switch
    {
        "java" => Runtime.Java,
        "node" or "nodejs" => Runtime.Node,
        "dotnet" => Runtime.Dotnet,
        "beam" or "beam.smp" => Runtime.Erlang,
        _ when Versioned(name, "python") || Versioned(name, "pypy") => Runtime.Python,
        _ when Versioned(name, "ruby") => Runtime.Ruby,
        _ when Versioned(name, "perl") => Runtime.Perl,
        _ when Versioned(name, "php") || Versioned(name, "php-fpm") || Versioned(name, "php-cgi") => Runtime.Php,
        _ => Runtime.None,
    };

    /// <summary>"python", "python3", "python3.12", "php8.2", "php-fpm8.2".</summary>
    private static bool Versioned(string name, string stem) =>
        name.StartsWith(stem, StringComparison.Ordinal) && name.AsSpan(stem.Length).IndexOfAnyExcept("0123456789.") < 0;

    /// <summary>A name of plain characters, of bounded length, that does not look like a secret; else "".</summary>
    private static string Safe(string? name)
    {
        if (name is null || name.Length is 0 or > MaxLength || !PlainName().IsMatch(name) || LooksSecret(name)) return "";
        return name;
    }

    internal static string FileName(string path) => Path.GetFileName(path.TrimEnd('/'));

    private static double BitsPerChar(string text)
    {
        var counts = new Dictionary<char, int>();
        foreach (var c in text) counts[c] = counts.GetValueOrDefault(c) + 1;
        return -counts.Values.Sum(n => (double)n / text.Length * Math.Log2((double)n / text.Length));
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._+@$-]*$")]
    private static partial Regex PlainName();
}
