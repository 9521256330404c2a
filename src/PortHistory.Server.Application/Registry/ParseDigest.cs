using System.Security.Cryptography;
using Google.Protobuf;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Server.Application.Registry;

/// <summary>
/// A fingerprint of what the parser made of a file: every record as the contract serializes it, in order, and the
/// warnings. Kept when an edition is received; a rebuild parses the original again and names the editions whose
/// fingerprint changed (a parser fix, or a parser that broke).
/// </summary>
public static class ParseDigest
{
    public static byte[] Of(RegistryEdition edition)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var record in edition.Records) Append(hash, record.ToProto());
        foreach (var warning in edition.Warnings) Append(hash, warning.ToProto());
        hash.AppendData(BitConverter.GetBytes(edition.EffectiveDate.DayNumber));
        return hash.GetHashAndReset();
    }

    private static void Append(IncrementalHash hash, IMessage message)
    {
        var bytes = message.ToByteArray();
        hash.AppendData(BitConverter.GetBytes(bytes.Length));
        hash.AppendData(bytes);
    }
}
