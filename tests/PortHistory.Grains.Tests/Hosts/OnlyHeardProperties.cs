using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>
/// A silo answers a heartbeat without the host's grain only when the grain would change nothing but the time the host
/// was heard: the same epoch, seq and digest, no new figures, the host online. Generated records and heartbeats that
/// differ from them in any set of fields.
/// </summary>
public sealed class OnlyHeardProperties
{
    private enum Field { Kind, Epoch, Seq, Digest, Group, Version, Privileged, MoreDrops, MoreBytes, FewerDrops, State }

    private static readonly Field[] New = [Field.Kind, Field.Epoch, Field.Seq, Field.Digest, Field.Group, Field.Version, Field.Privileged, Field.MoreDrops, Field.MoreBytes, Field.State];

    private static readonly Gen<HostRecord> Held =
        Gen.Select(Gen.ULong[1, ulong.MaxValue], Gen.ULong[0, 1000], Gen.ULong, Gen.ULong, Gen.String[Gen.Char.AlphaNumeric, 0, 8], Gen.ULong[0, 1000], Gen.Bool)
            .Select((epoch, seq, high, low, group, drops, privileged) => HostRecord.New("host", new DateTime(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc)) with
            {
                Version = 1, EpochId = epoch, EpochStartedAt = new DateTime(2026, 4, 1, 0, 0, 0, DateTimeKind.Utc), Seq = seq,
                SetHash = new SocketSetHash(high, low), HostGroup = group, AgentVersion = "1.0.0", Privileged = privileged,
                DroppedReports = drops + 1, DroppedBytes = drops * 10 + 1,
            });

    [Fact]
    public void A_heartbeat_is_answered_without_the_grain_exactly_when_it_brings_nothing_new()
    {
        Gen.Select(Held, Gen.Enum<Field>().HashSet[0, 4]).Sample((held, differ) =>
        {
            var at = held.LastSeen.AddMinutes(1);
            var heartbeat = new HostReportInput(
                differ.Contains(Field.Kind) ? HostReportKind.Changes : HostReportKind.Heartbeat,
                differ.Contains(Field.Epoch) ? held.EpochId + 1 : held.EpochId, held.EpochStartedAt,
                differ.Contains(Field.Seq) ? held.Seq + 1 : held.Seq,
                differ.Contains(Field.Digest) ? new SocketSetHash(~held.SetHash.High, held.SetHash.Low) : held.SetHash, SocketSetHash.Empty, [], [], at, at,
                differ.Contains(Field.Group) ? held.HostGroup + "x" : held.HostGroup,
                differ.Contains(Field.Version) ? "1.0.1" : held.AgentVersion,
                differ.Contains(Field.Privileged) ? !held.Privileged : held.Privileged,
                differ.Contains(Field.MoreDrops) ? held.DroppedReports + 1 : differ.Contains(Field.FewerDrops) ? held.DroppedReports - 1 : held.DroppedReports,
                differ.Contains(Field.MoreBytes) ? held.DroppedBytes + 1 : held.DroppedBytes);
            var record = differ.Contains(Field.State) ? held with { State = HostState.Stale } : held;

            // Fewer drops than held (an agent's figures reported before the latest) are no news: the grain keeps the larger.
            Assert.Equal(!differ.Overlaps(New), HostReportRules.OnlyHeard(record, heartbeat));
        }, iter: 2_000);
    }
}
