using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsCheck;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>Drawing messages, encoding them, and mutating their bytes.</summary>
public sealed partial class WireFuzz
{
    // ---- Drawing, encoding, mutating ----

    private static T Draw<T>(Gen<T> gen, PCG pcg) => gen.Generate(pcg, null!, out _);

    /// <summary>
    /// A string with an unpaired surrogate has no UTF-8 form; depending on the Google.Protobuf version the client
    /// replaces it or throws. A message that cannot be encoded is not sent (and counted as such).
    /// </summary>
    private static bool TryEncode(IMessage message, out byte[] bytes)
    {
        try
        {
            bytes = message.ToByteArray();
            return true;
        }
        catch (ArgumentException)
        {
            bytes = [];
            return false;
        }
    }

    private static T? TryParse<T>(MessageParser<T> parser, byte[] bytes) where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private sealed record Mutation(int Kind, uint At, uint Span, byte[] Junk);

    private static byte[] Mutate(byte[] bytes, Mutation[] mutations)
    {
        foreach (var mutation in mutations) bytes = Apply(bytes, mutation);
        return bytes;
    }

    private static byte[] Apply(byte[] bytes, Mutation m)
    {
        var at = bytes.Length == 0 ? 0 : (int)(m.At % (uint)bytes.Length);
        return m.Kind switch
        {
            // A few bits flipped.
            0 => Flip(bytes, at, m.Junk),
            // Cut short.
            1 => bytes[..at],
            // Junk after the end, or in the middle.
            2 => [.. bytes, .. m.Junk],
            3 => [.. bytes[..at], .. m.Junk, .. bytes[at..]],
            // A varint that does not end, or a length that runs past the end.
            4 => Overwrite(bytes, at, (m.Span & 1) == 0 ? (byte)0xff : (byte)0x80),
            // The message twice: protobuf merges, so this one still decodes.
            5 => [.. bytes, .. bytes],
            // Nothing of the message.
            6 => m.Junk,
            // Field 1, length-delimited, with a length of 4 GiB.
            7 => [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, .. bytes],
            // Field 1000 (unknown), varint: still decodes.
            8 => [.. bytes, 0xc0, 0x3e, (byte)(m.Span & 0x7f)],
            // Field 1 with another wire type (fixed32): kept as an unknown field, still decodes.
            9 => [.. bytes, 0x0d, (byte)m.Span, (byte)(m.Span >> 8), (byte)(m.Span >> 16), (byte)(m.Span >> 24)],
            // Groups nested deeper than the parser's recursion limit.
            10 => [.. Enumerable.Repeat((byte)0x0b, 150), .. bytes],
            // A few bytes deleted.
            _ => [.. bytes[..at], .. bytes[Math.Min(bytes.Length, at + 1 + (int)(m.Span % 16))..]],
        };
    }

    private static byte[] Flip(byte[] bytes, int at, byte[] masks)
    {
        if (bytes.Length == 0) return masks;
        var flipped = (byte[])bytes.Clone();
        for (var i = 0; i < Math.Min(4, masks.Length); i++) flipped[(at + i * 7) % flipped.Length] ^= (byte)(masks[i] | 1);
        return flipped;
    }

    private static byte[] Overwrite(byte[] bytes, int at, byte value)
    {
        if (bytes.Length == 0) return [value];
        var changed = (byte[])bytes.Clone();
        changed[at] = value;
        return changed;
    }

    private static string Repeat(string unit, int length)
    {
        var text = new StringBuilder(length + unit.Length);
        while (text.Length < length) text.Append(unit);
        text.Length = length;
        return text.ToString();
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static TEnum Unknown<TEnum>(int number) where TEnum : struct, Enum => Unsafe.BitCast<int, TEnum>(number);

    private static async Task<object?> Answer<T>(AsyncUnaryCall<T> call)
    {
        using (call) return await call.ResponseAsync;
    }

    private static async Task<object?> Drain<T>(AsyncServerStreamingCall<T> call)
    {
        using (call) await DrainAsync(call.ResponseStream);
        return null;
    }

    /// <summary>A stream that never ends by itself (Watch): its first message (a position mark) or its refusal, then cancelled.</summary>
    private static async Task<object?> FirstOf<T>(AsyncServerStreamingCall<T> call)
    {
        using (call) await call.ResponseStream.MoveNext(CancellationToken.None);
        return null;
    }

    private static async Task DrainAsync<T>(IAsyncStreamReader<T> responses)
    {
        while (await responses.MoveNext(CancellationToken.None))
        {
        }
    }

    /// <summary>
    /// Writes and completes a request stream. A server that refuses the call ends it without reading, and a write
    /// racing that end fails (Cancelled, or "the call is complete"); the call's real status comes with its response.
    /// </summary>
    private static async Task WriteAllAsync<T>(IClientStreamWriter<T> requests, IEnumerable<T> messages)
    {
        try
        {
            foreach (var message in messages) await requests.WriteAsync(message);
            await requests.CompleteAsync();
        }
        catch (RpcException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }
}
