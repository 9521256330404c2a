using System.Text.RegularExpressions;

namespace PortHistory.Agent.Scanning;

/// <summary>
/// Where each runtime's command line names the program it runs: "-jar x.jar", a script after the interpreter's options,
/// "-m module", "dotnet app.dll", the Erlang VM's -progname or release. Options and their values are skipped; the
/// result is checked by <see cref="ProgramNames"/> before it is used.
/// </summary>
internal static partial class RuntimeCommandLines
{
    /// <summary>The program the runtime's arguments name, before the safety checks; null when none.</summary>
    public static string? Program(Runtime runtime, IReadOnlyList<string> argv) => runtime switch
    {
        Runtime.Java => Java(argv),
        Runtime.Python => Script(argv, valued: ["-W", "-X", "-Q", "--check-hash-based-pycs"], code: ["-c"], module: "-m"),
        Runtime.Node => Script(argv,
            valued: ["-r", "--require", "--loader", "--experimental-loader", "--import", "-C", "--conditions", "--title", "--inspect-port", "--env-file"],
            code: ["-e", "--eval", "-p", "--print"], module: null),
        Runtime.Dotnet => Dotnet(argv),
        Runtime.Ruby => Script(argv, valued: ["-I", "-r", "-C", "-E", "--encoding"], code: ["-e"], module: null),
        Runtime.Perl => Script(argv, valued: ["-I", "-M", "-m"], code: ["-e", "-E"], module: null),
        Runtime.Php => Php(argv),
        Runtime.Erlang => Erlang(argv),
        _ => null,
    };

    /// <summary>-jar's archive, else the main class (or -m's module/class): the first word that is not an option or its value.</summary>
    private static string? Java(IReadOnlyList<string> argv)
    {
        string[] valued = ["-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path", "--add-modules", "--limit-modules",
            "--add-reads", "--add-exports", "--add-opens", "--patch-module", "--enable-native-access", "-d", "--describe-module"];
        for (var i = 1; i < argv.Count; i++)
        {
            var arg = argv[i];
            if (arg is "-jar") return i + 1 < argv.Count ? ProgramNames.FileName(argv[i + 1]) : null;
            if (arg is "-m" or "--module") return i + 1 < argv.Count ? JavaModuleMain(argv[i + 1]) : null;
            if (arg.StartsWith("--module=", StringComparison.Ordinal)) return JavaModuleMain(arg["--module=".Length..]);
            if (valued.Contains(arg))
            {
                i++;
                continue;
            }

            // -D, -X, -XX:, -agentlib:, -javaagent:, --x=y, and @argfiles are one word each.
            if (arg.StartsWith('-') || arg.StartsWith('@')) continue;
            return JavaClass().IsMatch(arg) ? arg : null;
        }

        return null;
    }

    /// <summary>"module/main.Class" → the class; a module alone → the module.</summary>
    private static string? JavaModuleMain(string value)
    {
        var slash = value.IndexOf('/');
        var name = slash >= 0 ? value[(slash + 1)..] : value;
        return JavaClass().IsMatch(name) ? name : null;
    }

    /// <summary>
    /// Interpreters with a script: the script's file name, or <paramref name="module"/>'s value. Inline code
    /// (<paramref name="code"/>) is no program; <paramref name="valued"/> options take the next word.
    /// </summary>
    private static string? Script(IReadOnlyList<string> argv, string[] valued, string[] code, string? module)
    {
        for (var i = 1; i < argv.Count; i++)
        {
            var arg = argv[i];
            if (arg == "--") return i + 1 < argv.Count ? ProgramNames.FileName(argv[i + 1]) : null;
            if (code.Contains(arg)) return null;
            if (module is not null && arg == module) return i + 1 < argv.Count ? argv[i + 1] : null;
            // "-mhttp.server": the value attached.
            if (module is not null && arg.StartsWith(module, StringComparison.Ordinal) && !arg.StartsWith("--", StringComparison.Ordinal)) return arg[module.Length..];
            if (valued.Contains(arg))
            {
                i++;
                continue;
            }

            if (arg == "-") return null;
            if (arg.StartsWith('-')) continue;
            return ProgramNames.FileName(arg);
        }

        return null;
    }

    /// <summary>"dotnet app.dll", "dotnet exec --runtimeconfig x.json app.dll"; SDK commands ("dotnet run") name no program.</summary>
    private static string? Dotnet(IReadOnlyList<string> argv)
    {
        string[] valued = ["--runtimeconfig", "--depsfile", "--additionalprobingpath", "--additional-deps", "--fx-version", "--roll-forward"];
        for (var i = 1; i < argv.Count; i++)
        {
            var arg = argv[i];
            if (arg == "exec") continue;
            if (valued.Contains(arg))
            {
                i++;
                continue;
            }

            if (arg.StartsWith('-')) continue;
            var name = ProgramNames.FileName(arg);
            return name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) ? name : null;
        }

        return null;
    }

    /// <summary>"php -S 0.0.0.0:8000 router.php", "php -f app.php", "php artisan serve"; php-fpm runs pools, not a script.</summary>
    private static string? Php(IReadOnlyList<string> argv)
    {
        if (ProgramNames.FileName(argv[0]).StartsWith("php-fpm", StringComparison.Ordinal)) return null;
        for (var i = 1; i < argv.Count; i++)
        {
            var arg = argv[i];
            if (arg == "-f") return i + 1 < argv.Count ? ProgramNames.FileName(argv[i + 1]) : null;
            if (arg is "-r" or "-R" or "-B" or "-E") return null;
            if (arg is "-S" or "-t" or "-c" or "-d" or "-z")
            {
                i++;
                continue;
            }

            if (arg.StartsWith('-')) continue;
            return ProgramNames.FileName(arg);
        }

        return null;
    }

    /// <summary>
    /// The BEAM: -progname unless it is the generic "erl", else the release a -boot file belongs to
    /// (".../&lt;release&gt;/releases/&lt;vsn&gt;/start"), else the first -s module (RabbitMQ: "-s rabbit boot").
    /// </summary>
    private static string? Erlang(IReadOnlyList<string> argv)
    {
        string? progname = null, boot = null, started = null;
        for (var i = 1; i + 1 < argv.Count; i++)
        {
            switch (argv[i])
            {
                case "-progname": progname ??= argv[i + 1]; break;
                case "-boot": boot ??= argv[i + 1]; break;
                case "-s" when !argv[i + 1].StartsWith('-'): started ??= argv[i + 1]; break;
            }
        }

        if (progname is not null && progname is not ("erl" or "erlexec" or "beam" or "beam.smp") && !progname.Contains('/')) return progname;
        if (boot is not null && ReleaseOf(boot) is { } release) return release;
        return started;
    }

    private static string? ReleaseOf(string boot)
    {
        var parts = boot.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var name = parts.Length > 0 ? parts[^1] : "";
        if (name.Length > 0 && name is not ("start" or "start_sasl" or "start_clean" or "no_dot_erlang") && parts.Length > 1) return name;
        var releases = Array.LastIndexOf(parts, "releases");
        return releases > 0 ? parts[releases - 1] : null;
    }

    /// <summary>A process that rewrote its title ("puma 6.4.0 (tcp://0.0.0.0:3000) [app]"): its first word.</summary>
    public static string? FromTitle(string title)
    {
        var word = title.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0].TrimEnd(':');
        return ProgramNames.RuntimeNamed(ProgramNames.FileName(word)) == Runtime.None ? ProgramNames.FileName(word) : null;
    }

    [GeneratedRegex(@"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$")]
    private static partial Regex JavaClass();
}
