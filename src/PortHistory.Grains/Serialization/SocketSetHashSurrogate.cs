using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Serialization;

/// <summary>The socket set digest (a contract type, without Orleans attributes) as its two halves.</summary>
[GenerateSerializer, Immutable, Alias("porthistory.SocketSetHash")]
public readonly record struct SocketSetHashSurrogate([property: Id(0)] ulong High, [property: Id(1)] ulong Low);

[RegisterConverter]
public sealed class SocketSetHashConverter : IConverter<SocketSetHash, SocketSetHashSurrogate>
{
    public SocketSetHash ConvertFromSurrogate(in SocketSetHashSurrogate surrogate) => new(surrogate.High, surrogate.Low);

    public SocketSetHashSurrogate ConvertToSurrogate(in SocketSetHash value) => new(value.High, value.Low);
}
