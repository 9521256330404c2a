using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application;

/// <summary>
/// References to the port and host grains by their keys. Orleans' <c>GetGrain&lt;T&gt;(key)</c> finds the interface's
/// grain interface type through its attributes again on every call: in a profile of a fleet's steady heartbeats that
/// reflection was a fifth of the server's work per heartbeat. Here both types are resolved once.
/// </summary>
public sealed class KeyedGrains
{
    private readonly IGrainFactory _grains;
    private readonly GrainType _hostType;
    private readonly GrainInterfaceType _hostInterface;
    private readonly GrainType _portType;
    private readonly GrainInterfaceType _portInterface;

    public KeyedGrains(IGrainFactory grains)
    {
        _grains = grains;
        var host = (GrainReference)grains.GetGrain<IHostGrain>("host");
        (_hostType, _hostInterface) = (host.GrainId.Type, host.InterfaceType);
        var port = (GrainReference)grains.GetGrain<IPortGrain>(0);
        (_portType, _portInterface) = (port.GrainId.Type, port.InterfaceType);
    }

    public IHostGrain Host(string hostRef) => (IHostGrain)_grains.GetGrain(GrainId.Create(_hostType, hostRef), _hostInterface);

    public IPortGrain Port(int port) => (IPortGrain)_grains.GetGrain(GrainId.Create(_portType, GrainIdKeyExtensions.CreateIntegerKey(port)), _portInterface);
}
