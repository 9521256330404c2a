namespace PortHistory.Registry.Model;

/// <summary>The three port ranges of RFC 6335 (named "well known", "registered" and "dynamic and/or private" before it).</summary>
public enum PortClass : byte
{
    System = 1,
    User = 2,
    Dynamic = 3,
}

public static class PortClasses
{
    public static PortClass Of(int port) => port switch
    {
        <= 1023 => PortClass.System,
        <= 49151 => PortClass.User,
        _ => PortClass.Dynamic,
    };

    public static string ToText(this PortClass portClass) => portClass switch
    {
        PortClass.System => "system (well-known, 0-1023)",
        PortClass.User => "user (registered, 1024-49151)",
        _ => "dynamic/private (49152-65535)",
    };
}
