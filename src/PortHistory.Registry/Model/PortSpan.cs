using System.Globalization;

namespace PortHistory.Registry.Model;

/// <summary>An inclusive range of port numbers; a single port has <see cref="First"/> == <see cref="Last"/>.</summary>
public readonly record struct PortSpan
{
    public const int MaxPort = 65535;

    public PortSpan(int first, int last)
    {
        if (first < 0 || first > MaxPort) throw new ArgumentOutOfRangeException(nameof(first), first, "port must be 0-65535");
        if (last < first || last > MaxPort) throw new ArgumentOutOfRangeException(nameof(last), last, $"range end must be {first}-65535");
        First = first;
        Last = last;
    }

    public static PortSpan All => new(0, MaxPort);

    public static PortSpan Single(int port) => new(port, port);

    public int First { get; }
    public int Last { get; }
    public int Count => Last - First + 1;
    public bool IsSingle => First == Last;

    public bool Contains(int port) => port >= First && port <= Last;

    public bool Overlaps(PortSpan other) => First <= other.Last && other.First <= Last;

    public override string ToString() => IsSingle
        ? First.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");

    /// <summary>Parses "776" or "6000-6063" (also with spaces around the dash).</summary>
    public static bool TryParse(string? text, out PortSpan range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var dash = text.IndexOf('-');
        var firstText = dash < 0 ? text : text[..dash];
        var lastText = dash < 0 ? text : text[(dash + 1)..];
        if (!int.TryParse(firstText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var first) ||
            !int.TryParse(lastText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var last) ||
            first > MaxPort || last > MaxPort || last < first)
        {
            return false;
        }

        range = new PortSpan(first, last);
        return true;
    }
}
