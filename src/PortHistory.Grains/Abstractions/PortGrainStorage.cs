namespace PortHistory.Grains.Abstractions;

public static class PortGrainStorage
{
    /// <summary>The grain storage provider the port grains persist to.</summary>
    public const string Name = "porthistory";
}
