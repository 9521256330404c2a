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

/// <summary>An answer the server must never give (or a failure in the client), with what reproduces it.</summary>
public sealed record FuzzOffence(int Index, string Method, string Caller, bool Raw, string Status, string Detail)
{
    public override string ToString() => $"message {Index}: {Method}{(Raw ? " (mutated bytes)" : "")} as {Caller}: {Status} \"{Detail}\"";
}

public sealed class FuzzReport
{
    public required ulong Seed { get; init; }

    public required int Requested { get; init; }

    public required int Sent { get; init; }

    /// <summary>Drawn messages the client could not encode (unpaired surrogates), not sent and not counted as sent.</summary>
    public required int Unsendable { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>Answers per status ("OK", "InvalidArgument", ...; grpc-dotnet's answers to undecodable bytes apart).</summary>
    public required IReadOnlyDictionary<string, int> Statuses { get; init; }

    /// <summary>Answers per method (and "raw" for mutated bytes) and status.</summary>
    public required IReadOnlyDictionary<string, int> Calls { get; init; }

    public required int OffenceCount { get; init; }

    /// <summary>The first offences by message index (at most 20).</summary>
    public required IReadOnlyList<FuzzOffence> Offences { get; init; }

    public required int PortsTouched { get; init; }

    public required int PortsWithSightings { get; init; }

    public required int PortsChecked { get; init; }

    /// <summary>Health not SERVING, or a port that did not answer GetPort or GetObserved with OK afterwards.</summary>
    public required IReadOnlyList<string> AfterwardFailures { get; init; }

    public bool Passed => OffenceCount == 0 && AfterwardFailures.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"wire fuzz, seed {Seed} (PORTHISTORY_FUZZ_SEED={Seed} repeats it; message i is drawn from new PCG(i, seed) alone): {Sent} calls sent for {Requested} asked, {Unsendable} drawn that the client cannot encode (skipped), in {Elapsed.TotalSeconds:0.0} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"statuses: {string.Join(", ", Statuses.Select(s => $"{s.Key}={s.Value}"))}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Internal or Unknown answers and client failures: {OffenceCount}");
        foreach (var offence in Offences) text.AppendLine(CultureInfo.InvariantCulture, $"  {offence}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"afterwards: {PortsChecked} ports asked for GetPort and GetObserved as admin ({PortsWithSightings} with accepted sightings, the others sampled from {PortsTouched} touched); {AfterwardFailures.Count} failures");
        foreach (var failure in AfterwardFailures.Take(20)) text.AppendLine(CultureInfo.InvariantCulture, $"  {failure}");
        text.AppendLine("answers by method and status:");
        foreach (var (key, count) in Calls) text.AppendLine(CultureInfo.InvariantCulture, $"  {key}: {count}");
        return text.ToString();
    }
}
