using Google.Protobuf;

namespace PortHistory.Benchmarks.Echo;

/// <summary>The echo's request message, encoded by hand (field 1, bytes) so the harness needs no generated code of its own.</summary>
internal sealed class EchoMessage
{
    public ByteString Payload { get; init; } = ByteString.Empty;

    public byte[] ToByteArray()
    {
        using var stream = new MemoryStream();
        using var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(Payload);
        output.Flush();
        return stream.ToArray();
    }
}

/// <summary>The echo's Sized request (field 1, uint32): a constant answer that encodes to exactly that many bytes.</summary>
internal static class SizedRequest
{
    public static byte[] Of(int size)
    {
        using var stream = new MemoryStream();
        using var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteUInt32((uint)size);
        output.Flush();
        return stream.ToArray();
    }
}
