using System.Text.RegularExpressions;
using CsCheck;
using Google.Protobuf;
using PortHistory.Contracts;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Hosts;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Server.Application.Tests.Hosts;

/// <summary>Whatever arrives from the wire, the validator answers: a report every check of which holds, or a refusal naming a field.</summary>
public sealed partial class HostReportValidatorProperties
{
    private static readonly long Now = Timestamp.FromDateTime(At).Seconds;

    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.OneOf<string>("", " ", "web-1", "nginx", "/usr/sbin/nginx", "a/b", "two words", "x\u202Ey", "nul\0", "\uD800", "10.0.0.1", "fe80::1", "ünï ✓"),
        Gen.String[0, 24]);

    private static readonly Gen<Timestamp?> Time = Gen.Select(
        Gen.OneOf(Gen.Long[Now - 1_000_000, Now + 1_000], Gen.Long), Gen.OneOf(Gen.Const(0), Gen.Int[-2, 1_000_000_001]), Gen.Int[0, 9])
        .Select(t => t.Item3 == 0 ? null : new Timestamp { Seconds = t.Item1, Nanos = t.Item2 });

    private static readonly Gen<HostSocket> WildSocket = Gen.Select(Gen.Int[-1, 6], Gen.OneOf(Gen.UInt[0, 70_000], Gen.UInt), Gen.Bool, Gen.Int[-1, 5],
            Gen.Select(Text, Text, Text, Text, Text))
        .Select(s =>
        {
            var socket = new HostSocket
            {
                Transport = (Transport)s.Item1, BindScope = (BindScope)s.Item4, BoundAddress = s.Item5.Item1, ProcessName = s.Item5.Item2,
                Executable = s.Item5.Item3, Program = s.Item5.Item4, SystemdUnit = s.Item5.Item5,
            };
            if (s.Item3) socket.Port = s.Item2;
            return socket;
        });

    private static readonly Gen<HostSocket> AnySocket = Gen.OneOf(Gen.Int[0, Sockets.Length - 1].Select(i => Sockets[i].Clone()), WildSocket);

    /// <summary>Reports near a valid one (catalog sockets, a matching digest) as often as wild ones.</summary>
    private static readonly Gen<HostReport> Reports = Gen.Select(
            Gen.Select(Text, Gen.Int[0, 5], Gen.OneOf(Gen.Const(1UL), Gen.ULong), Time, Gen.ULong[0, 3]),
            Gen.Select(Gen.Int[0, 3], AnySocket.Array[0, 6], AnySocket.Array[0, 3], Gen.Bool, Gen.Byte.Array[0, 20]),
            Gen.Select(Time, Text, Text, Gen.Bool, Gen.Bool))
        .Select((head, body, tail) =>
        {
            var (hostRef, epochShape, epochId, started, seq) = head;
            var (bodyCase, sockets, removed, rightDigest, digest) = body;
            var (observed, group, version, privileged, drops) = tail;
            var report = new HostReport
            {
                HostRef = hostRef.Length == 0 ? "web-1" : hostRef, Seq = seq, ObservedAt = observed, HostGroup = group, AgentVersion = version,
                AgentPrivileged = privileged, Drops = drops ? new SpoolDrops { Reports = seq, Bytes = seq * 100 } : null,
                Epoch = epochShape == 0 ? null : new ReportEpoch { Id = epochShape == 1 ? 0 : epochId, StartedAt = started },
                SetHash = rightDigest ? SocketSetHash.Of(sockets).ToByteString() : ByteString.CopyFrom(digest),
            };
            switch (bodyCase)
            {
                case 1:
                    report.Snapshot = new HostSnapshot();
                    report.Snapshot.Sockets.Add(sockets);
                    break;
                case 2:
                    HostReportValidatorTests.Change(report, sockets, removed);
                    break;
                case 3:
                    report.Heartbeat = new HostHeartbeat();
                    break;
            }

            return report;
        });

    [GeneratedRegex(@"^(host_ref|epoch|epoch\.id|epoch\.started_at|seq|set_hash|observed_at|host_group|agent_version|body|changes|snapshot\.sockets"
        + @"|(changes\.added|changes\.removed|snapshot\.sockets)\[\d+\]\.(port|transport|bind_scope|bound_address|process_name|executable|program|systemd_unit))$")]
    private static partial Regex Field();

    [Fact]
    public void Any_report_is_either_refused_by_a_field_name_or_valid_in_every_part()
    {
        var validator = HostReportValidatorTests.Validator();
        Reports.Sample(report =>
        {
            var (valid, refusal) = validator.Validate(report);

            Assert.True(valid is null != refusal is null);
            if (refusal is not null)
            {
                Assert.Matches(Field(), refusal.Field);
                Assert.False(string.IsNullOrWhiteSpace(refusal.Reason));
                return;
            }

            Assert.Null(WireText.Check(valid!.HostRef, 128, required: true));
            Assert.NotEqual(0UL, valid.EpochId);
            Assert.True(valid.Seq >= 1);
            Assert.True(valid.EpochStartedAt <= At + HostReportValidatorTests.Skew && valid.ObservedAt <= At + HostReportValidatorTests.Skew);
            Assert.All(valid.Added.Concat(valid.Removed), socket => Assert.Null(HostSocketRules.Check(socket)));
            Assert.True(valid.Added.Count + valid.Removed.Count <= HostReportValidatorTests.Limit);
            var toggled = SocketSetHash.Empty;
            foreach (var socket in valid.Added.Concat(valid.Removed)) toggled ^= SocketSetHash.Member(socket);
            if (valid.Kind == HostReportKind.Snapshot) Assert.Equal(SocketSetHash.Of(valid.Added), valid.SetHash);
            Assert.Equal(valid.Kind == HostReportKind.Changes ? toggled : SocketSetHash.Empty, valid.Toggled);
        }, iter: 5_000);
    }
}
