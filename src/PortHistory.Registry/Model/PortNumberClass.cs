namespace PortHistory.Registry.Model;

/// <summary>The three port ranges of RFC 6335 (named "well known", "registered" and "dynamic and/or private" before it).</summary>
public enum PortNumberClass : byte
{
    System = 1,
    User = 2,
    Dynamic = 3,
}

public static class PortNumberClasses
{
    public static PortNumberClass Of(int port) => port switch
    {
        <= 1023 => PortNumberClass.System,
        <= 49151 => PortNumberClass.User,
        _ => PortNumberClass.Dynamic,
    };

    public static string ToText(this PortNumberClass portClass) => portClass switch
    {
        PortNumberClass.System => "system (well-known, 0-1023)",
        PortNumberClass.User => "user (registered, 1024-49151)",
        _ => "dynamic/private (49152-65535)",
    };
}
