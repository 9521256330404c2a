using Google.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Serialization;

/// <summary>
/// Contract messages cross silo boundaries as their own protobuf bytes: the contract's field numbers are already
/// the stable, version-tolerant wire format, so Orleans only carries the bytes.
/// </summary>
[GenerateSerializer, Immutable, Alias("porthistory.ProtoBytes")]
public readonly record struct ProtoBytes([property: Id(0)] byte[] Bytes);

/// <summary>Shared shape of the converters: Orleans needs one registered class per message type.</summary>
public abstract class ProtoConverter<T> : IConverter<T, ProtoBytes> where T : IMessage<T>, new()
{
    private static readonly MessageParser<T> Parser = new(() => new T());

    public T ConvertFromSurrogate(in ProtoBytes surrogate) => Parser.ParseFrom(surrogate.Bytes);

    public ProtoBytes ConvertToSurrogate(in T value) => new(value.ToByteArray());
}

[RegisterConverter]
public sealed class GetPortResponseConverter : ProtoConverter<GetPortResponse>;

[RegisterConverter]
public sealed class GetTimelineResponseConverter : ProtoConverter<GetTimelineResponse>;

[RegisterConverter]
public sealed class ObservedSummaryConverter : ProtoConverter<ObservedSummary>;

[RegisterConverter]
public sealed class GetObservedResponseConverter : ProtoConverter<GetObservedResponse>;
