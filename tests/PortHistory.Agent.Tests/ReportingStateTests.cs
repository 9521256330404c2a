using CsCheck;
using PortHistory.Agent.Reporting;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>The reporting state file: read back as written, and anything damaged is not believed.</summary>
public sealed class ReportingStateTests
{
    private static readonly Gen<HostSocket> Sockets = Gen.Select(Gen.UInt[0, 65535], Gen.Int[1, 3], Gen.String[Gen.Char.AlphaNumeric, 0, 12])
        .Select((port, scope, name) => new HostSocket
        {
            Transport = Transport.Udp, Port = port, BindScope = (BindScope)scope, BoundAddress = scope == 3 ? "fe80::1" : "", ProcessName = name,
            SystemdUnit = name.Length > 0 ? $"{name}.service" : "",
        });

    private static readonly Gen<ReportingState> States = Gen.Select(Gen.ULong, Gen.Long[0, 4_102_444_800_000], Gen.ULong, Gen.ULong, Gen.Bool, Gen.Bool,
            Sockets.HashSet[0, 30], Sockets.HashSet[0, 30])
        .Select((id, started, seq, drops, due, older, spooled, acknowledged) =>
        {
            var state = ReportingState.NewEpoch(id, DateTimeOffset.FromUnixTimeMilliseconds(started), older);
            state.SpooledSeq = seq;
            state.AcknowledgedSeq = seq / 2;
            state.DroppedReports = drops;
            state.DroppedBytes = drops / 3;
            state.SnapshotDue = due;
            state.NextSnapshotAt = DateTimeOffset.FromUnixTimeMilliseconds(started / 2);
            state.SpooledSet = spooled;
            state.AcknowledgedSet = acknowledged;
            return state;
        });

    [Fact]
    public void Any_state_reads_back_as_written() =>
        States.Sample(state =>
        {
            var read = ReportingState.Decode(state.Encode());

            Assert.NotNull(read);
            Assert.Equal(state.Encode(), read.Encode());
            Assert.Equal((state.Epoch, state.SpooledSeq, state.AcknowledgedSeq, state.SnapshotDue, state.OlderServerSeen, state.NextSnapshotAt),
                (read.Epoch, read.SpooledSeq, read.AcknowledgedSeq, read.SnapshotDue, read.OlderServerSeen, read.NextSnapshotAt));
            Assert.True(read.SpooledSet.SetEquals(state.SpooledSet));
            Assert.True(read.AcknowledgedSet.SetEquals(state.AcknowledgedSet));
        }, iter: 300);

    [Fact]
    public void A_state_with_any_byte_changed_or_cut_short_is_not_believed() =>
        Gen.Select(States, Gen.Int[0, int.MaxValue], Gen.Byte[1, 255], Gen.Bool).Sample((state, at, flip, cut) =>
        {
            var bytes = state.Encode();
            var position = at % bytes.Length;
            if (cut) bytes = bytes[..position];
            else bytes[position] ^= flip;

            Assert.Null(ReportingState.Decode(bytes));
        }, iter: 300);
}
