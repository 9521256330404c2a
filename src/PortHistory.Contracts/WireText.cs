namespace PortHistory.Contracts;

/// <summary>
/// The character policy for text from the wire (agents, callers): bounded length, and nothing that could hide or
/// reorder what a reader sees or break storage: no control characters (NUL included, which PostgreSQL text cannot
/// hold), no bidirectional overrides or isolates (U+202E makes "exe.dll" look like something else), no unpaired
/// surrogates.
/// </summary>
public static class WireText
{
    /// <returns>Why the value is refused, or null when it is acceptable.</returns>
    public static string? Check(string value, int maxLength, bool required = false)
    {
        if (value.Length > maxLength) return $"is longer than {maxLength} characters";
        if (required && value.AsSpan().Trim().IsEmpty) return "is required";
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c)) return $"contains the control character U+{(int)c:X4} at {i}";
            if (IsBidiControl(c)) return $"contains the bidirectional control U+{(int)c:X4} at {i}";
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c)) return $"contains an unpaired surrogate at {i}";
        }

        return null;
    }

    /// <summary>
    /// A name, not a path or a phrase: <see cref="Check"/>, and no "/" or whitespace inside. What an agent sends as a
    /// program or a unit must be a file, module or unit name: a path or arguments could carry more than the name.
    /// </summary>
    public static string? CheckName(string value, int maxLength)
    {
        if (Check(value, maxLength) is { } bad) return bad;
        var name = value.AsSpan().Trim();
        if (name.IndexOf('/') is >= 0 and var slash) return $"contains \"/\" at {slash}: a name is expected, not a path";
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsWhiteSpace(name[i])) return $"contains whitespace at {i}: a name is expected, not arguments";
        }

        return null;
    }

    private static bool IsBidiControl(char c) => c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
