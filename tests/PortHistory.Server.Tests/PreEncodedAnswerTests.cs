using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Tests;

/// <summary>The pre-encoded form of a GetPort answer: it must put on the wire exactly what the answer itself would.</summary>
public sealed class PreEncodedAnswerTests
{
    private static GetPortResponse Answer()
    {
        var record = new RegistryRecord
        {
            ServiceName = "wpages",
            Ports = new PortRange { First = 776, Last = 776 },
            Transport = Transport.Udp,
            Status = AssignmentStatus.Assigned,
            Description = "Pages — with a non-ASCII dash and ünïcödé",
            Registered = "1992-07",
        };
        record.Aliases.Add("wp");
        record.Contacts.Add(new Person { Id = "Josyula_R_Rao", Name = "Josyula R. Rao", Email = "jrrao@example.org" });
        record.References.Add("RFC1340");
        var since = new EditionRef { Id = "rfc1340", Format = EditionFormat.Rfc, EffectiveDate = new Google.Type.Date { Year = 1992, Month = 7 } };
        var answer = new GetPortResponse
        {
            Port = 776,
            PortClass = PortClass.System,
            Edition = new EditionRef { Id = "iana-xml-2026-08-17", Title = "Service Name and Transport Protocol Port Number Registry" },
            Observed = new ObservedSummary { Port = 776, ReportingHosts = 40 },
        };
        answer.Transports.Add(new TransportAssignment { Transport = Transport.Tcp, Since = since });
        answer.Transports.Add(new TransportAssignment { Transport = Transport.Udp, Since = since, Records = { record } });
        answer.Observed.Transports.Add(new ObservedTransport
        {
            Transport = Transport.Udp,
            DistinctHosts = 12,
            FirstSeen = Timestamp.FromDateTime(new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc)),
            Processes = { new ObservedProcess { ProcessName = "rpc.statd", Executable = "/usr/sbin/rpc.statd", DistinctHosts = 12 } },
        });
        answer.Verdicts.Add(new Verdict { Transport = Transport.Udp, Kind = VerdictKind.Squatter, Reason = "assigned to wpages, observed rpc.statd", ObservedProcesses = { "rpc.statd" } });
        return answer;
    }

    [Fact]
    public void Encodes_to_the_same_bytes_through_every_writer_and_reads_back_as_the_answer()
    {
        var answer = Answer();
        var preEncoded = answer.PreEncoded();

        Assert.Equal(answer.ToByteArray(), preEncoded.ToByteArray());
        Assert.Equal(answer.CalculateSize(), preEncoded.CalculateSize());
        // gRPC's marshaller writes into a buffer writer.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        preEncoded.WriteTo(buffer);
        Assert.Equal(answer.ToByteArray(), buffer.WrittenSpan.ToArray());
        Assert.Equal(answer, GetPortResponse.Parser.ParseFrom(preEncoded.ToByteArray()));
    }

    [Fact]
    public void Is_for_sending_only_and_leaves_the_answer_untouched()
    {
        var answer = Answer();
        var before = answer.ToByteArray();
        var preEncoded = answer.PreEncoded();

        Assert.Empty(preEncoded.Transports);
        Assert.Null(preEncoded.Observed);
        // Only a pre-encoded answer offers its bytes to the marshaller; any other is encoded field by field.
        Assert.True(preEncoded.TryGetEncoded(out var encoded));
        Assert.Equal(before, encoded.ToArray());
        Assert.False(answer.TryGetEncoded(out _));
        Assert.False(preEncoded.Clone().TryGetEncoded(out _));
        Assert.Equal(before, answer.ToByteArray());
        Assert.Empty(new GetPortResponse().PreEncoded().ToByteArray());
    }
}
