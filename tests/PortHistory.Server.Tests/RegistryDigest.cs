using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Tests;

/// <summary>
/// A fingerprint of everything the registry API answers: the editions, a full port listing now and in 1993, timelines
/// of sample ports, service lookups and a diff (by default from RFC 1340 to the newest edition; a server holding other
/// editions names two of its own). Two servers with equal digests give equal answers.
/// </summary>
public static class RegistryDigest
{
    private static readonly uint[] SamplePorts = [0, 1, 2, 3, 7, 15, 21, 22, 80, 111, 443, 600, 770, 771, 772, 773, 774, 775, 776, 777, 1024, 1524, 2049, 6000, 6063, 8080, 49151, 60000];
    private static readonly string[] SampleNames = ["wpages", "rtip", "acmaint_dbd", "x11", "http", "compressnet", "netstat"];

    public static async Task<string> ComputeAsync(GrpcChannel channel, Metadata? headers = null, (string From, string To)? diff = null)
    {
        var (from, to) = diff ?? ("rfc1340", "iana-xml-2026-08-17");
        var client = new PortRegistry.PortRegistryClient(channel);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(IMessage message) => hash.AppendData(message.ToByteArray());

        var editions = await client.ListEditionsAsync(new ListEditionsRequest(), headers);
        foreach (var edition in editions.Editions) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{edition.Id}|{edition.Sha256}|{edition.Records}"));

        foreach (var asOf in new Google.Type.Date?[] { null, new() { Year = 1993, Month = 1, Day = 1 } })
        {
            using var call = client.ListPorts(new ListPortsRequest { AsOf = asOf }, headers);
            await foreach (var batch in call.ResponseStream.ReadAllAsync()) Add(batch);
        }

        foreach (var port in SamplePorts)
        {
            Add(await client.GetTimelineAsync(new GetTimelineRequest { Port = port }, headers));
            Add(await client.GetPortAsync(new GetPortRequest { Port = port }, headers));
        }

        foreach (var name in SampleNames) Add(await client.FindServiceAsync(new FindServiceRequest { Name = name }, headers));

        using var changes = client.DiffEditions(new DiffEditionsRequest { FromEdition = from, ToEdition = to }, headers);
        await foreach (var batch in changes.ResponseStream.ReadAllAsync()) Add(batch);

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
