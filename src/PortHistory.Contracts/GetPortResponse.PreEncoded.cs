using Google.Protobuf;

namespace PortHistory.Contracts.V1;

public sealed partial class GetPortResponse
{
    private byte[]? _encoded;

    /// <summary>
    /// The encoding of an answer made by <see cref="PreEncoded"/>, for a marshaller to send as it is; false for any
    /// other message.
    /// </summary>
    public bool TryGetEncoded(out ReadOnlyMemory<byte> encoded)
    {
        encoded = _encoded;
        return _encoded is not null;
    }

    /// <summary>
    /// A copy that holds this response's fields as their encoded bytes rather than as messages. It serializes to the
    /// same bytes as this one, but with a copy instead of a walk over every nested record, so an answer served many
    /// times unchanged is encoded once; a marshaller that knows it sends <see cref="TryGetEncoded"/>'s bytes with one copy. Its
    /// properties read as empty: it is for sending, never for reading.
    /// </summary>
    public GetPortResponse PreEncoded()
    {
        var copy = new GetPortResponse { _encoded = this.ToByteArray() };
        var input = new CodedInputStream(copy._encoded);
        // Every field of the encoding is unknown to an empty parse target; the set keeps them in wire order.
        while (input.ReadTag() != 0) copy._unknownFields = UnknownFieldSet.MergeFieldFrom(copy._unknownFields, input);
        return copy;
    }
}
