using Google.Protobuf;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Hosts;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Server.Application.Tests.Hosts;

/// <summary>
/// Every field of a differential report from the wire: refused with its name when it is missing, hostile, out of range
/// or of an enum number this server does not know; socket text checked as sent, never changed.
/// </summary>
public sealed class HostReportValidatorTests
{
    internal const int Limit = 4;
    internal static readonly TimeSpan Skew = new SightingOptions().MaxClockSkew;

    private readonly HostReportValidator _validator = Validator();

    internal static HostReportValidator Validator() => new(Options.Create(new HostReportingOptions { MaxSocketsPerReport = Limit }),
        Options.Create(new SightingOptions()), new FakeTimeProvider(new DateTimeOffset(At)));

    /// <summary>A snapshot of two sockets that passes every check: each case spoils one field of it.</summary>
    internal static HostReport Valid(params HostSocket[] sockets)
    {
        HostSocket[] set = sockets.Length > 0 ? sockets : [Sockets[0], Sockets[3]];
        var report = new HostReport
        {
            HostRef = "web-1", Epoch = new ReportEpoch { Id = 0xfeed, StartedAt = Timestamp.FromDateTime(At.AddDays(-1)) }, Seq = 1,
            SetHash = SocketSetHash.Of(set).ToByteString(), ObservedAt = Timestamp.FromDateTime(At), HostGroup = "web", AgentVersion = "2.0.0",
            Snapshot = new HostSnapshot(),
        };
        report.Snapshot.Sockets.Add(set.Select(s => s.Clone()));
        return report;
    }

    private static readonly Dictionary<string, Action<HostReport>> Spoilers = new(StringComparer.Ordinal)
    {
        ["empty host_ref"] = r => r.HostRef = " ",
        ["host_ref with a bidi override"] = r => r.HostRef = "web-1\u202Eexe",
        ["host_ref with a NUL"] = r => r.HostRef = "web\0-1",
        ["host_ref padded"] = r => r.HostRef = "web-1 ",
        ["no epoch"] = r => r.Epoch = null,
        ["epoch 0"] = r => r.Epoch.Id = 0,
        ["epoch begun in the future"] = r => r.Epoch.StartedAt = Timestamp.FromDateTime(At + Skew + TimeSpan.FromSeconds(1)),
        ["epoch without a start"] = r => r.Epoch.StartedAt = null,
        ["epoch start with bad nanos"] = r => r.Epoch.StartedAt.Nanos = -1,
        ["seq 0"] = r => r.Seq = 0,
        ["short set_hash"] = r => r.SetHash = ByteString.CopyFrom(new byte[15]),
        ["long set_hash"] = r => r.SetHash = ByteString.CopyFrom(new byte[17]),
        ["empty set_hash"] = r => r.SetHash = ByteString.Empty,
        ["snapshot digest of another set"] = r => r.SetHash = SocketSetHash.Of(Set(AllMask)).ToByteString(),
        ["observed in the future"] = r => r.ObservedAt = Timestamp.FromDateTime(At + Skew + TimeSpan.FromMinutes(1)),
        ["observed beyond any date"] = r => r.ObservedAt = new Timestamp { Seconds = long.MaxValue / 2 },
        ["host_group a path"] = r => r.HostGroup = "web/eu",
        ["host_group with a control character"] = r => r.HostGroup = "web\u001b[31m",
        ["agent_version too long"] = r => r.AgentVersion = new string('9', HostReportValidator.MaxAgentVersionLength + 1),
        ["agent_version with an isolate"] = r => r.AgentVersion = "2.0\u2066.0",
        ["no body"] = r => r.ClearBody(),
        ["port over 65535"] = r => r.Snapshot.Sockets[1].Port = 65536,
        ["no port"] = r => r.Snapshot.Sockets[1].ClearPort(),
        ["unknown transport"] = r => r.Snapshot.Sockets[1].Transport = (Transport)42,
        ["no transport"] = r => r.Snapshot.Sockets[1].Transport = Transport.Unspecified,
        ["unknown bind scope"] = r => r.Snapshot.Sockets[1].BindScope = (BindScope)9,
        ["address of a wildcard"] = r => r.Snapshot.Sockets[0].BoundAddress = "10.0.0.1",
        ["specific bind to no address"] = r => r.Snapshot.Sockets[1].BoundAddress = "",
        ["specific bind to a name"] = r => r.Snapshot.Sockets[1].BoundAddress = "db.local",
        ["no process"] = r => (r.Snapshot.Sockets[1].ProcessName, r.Snapshot.Sockets[1].Executable) = ("", ""),
        ["process with a bidi mark"] = r => r.Snapshot.Sockets[1].ProcessName = "ngin\u200Fx",
        ["process padded"] = r => r.Snapshot.Sockets[1].ProcessName = " nginx",
        ["executable with an unpaired surrogate"] = r => r.Snapshot.Sockets[1].Executable = "/usr/bin/\uD800x",
        ["program a path"] = r => r.Snapshot.Sockets[1].Program = "/opt/app.jar",
        ["unit with arguments"] = r => r.Snapshot.Sockets[1].SystemdUnit = "nginx.service --now",
        ["added socket on a bad port"] = r => Change(r, [Socket(Transport.Tcp, 70000, BindScope.Wildcard, "", "x")]),
        ["removed socket of an unknown scope"] = r => Change(r, [], Socket(Transport.Tcp, 1, (BindScope)77, "", "x")),
    };

    public static TheoryData<string, string> Refusals => new()
    {
        { "empty host_ref", "host_ref" }, { "host_ref with a bidi override", "host_ref" }, { "host_ref with a NUL", "host_ref" },
        { "host_ref padded", "host_ref" }, { "no epoch", "epoch" }, { "epoch 0", "epoch.id" },
        { "epoch begun in the future", "epoch.started_at" }, { "epoch without a start", "epoch.started_at" },
        { "epoch start with bad nanos", "epoch.started_at" }, { "seq 0", "seq" }, { "short set_hash", "set_hash" },
        { "long set_hash", "set_hash" }, { "empty set_hash", "set_hash" }, { "snapshot digest of another set", "set_hash" },
        { "observed in the future", "observed_at" }, { "observed beyond any date", "observed_at" }, { "host_group a path", "host_group" },
        { "host_group with a control character", "host_group" }, { "agent_version too long", "agent_version" },
        { "agent_version with an isolate", "agent_version" }, { "no body", "body" }, { "port over 65535", "snapshot.sockets[1].port" },
        { "no port", "snapshot.sockets[1].port" }, { "unknown transport", "snapshot.sockets[1].transport" },
        { "no transport", "snapshot.sockets[1].transport" }, { "unknown bind scope", "snapshot.sockets[1].bind_scope" },
        { "address of a wildcard", "snapshot.sockets[0].bound_address" }, { "specific bind to no address", "snapshot.sockets[1].bound_address" },
        { "specific bind to a name", "snapshot.sockets[1].bound_address" }, { "no process", "snapshot.sockets[1].process_name" },
        { "process with a bidi mark", "snapshot.sockets[1].process_name" }, { "process padded", "snapshot.sockets[1].process_name" },
        { "executable with an unpaired surrogate", "snapshot.sockets[1].executable" }, { "program a path", "snapshot.sockets[1].program" },
        { "unit with arguments", "snapshot.sockets[1].systemd_unit" }, { "added socket on a bad port", "changes.added[0].port" },
        { "removed socket of an unknown scope", "changes.removed[0].bind_scope" },
    };

    [Fact]
    public void The_report_the_cases_spoil_is_valid()
    {
        var (report, refusal) = _validator.Validate(Valid());

        Assert.Null(refusal);
        Assert.Equal((HostReportKind.Snapshot, 2), (report!.Kind, report.Added.Count));
        Assert.Equal(Spoilers.Keys.Order(), Refusals.Select(row => (string)row[0]).Order());
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Each_field_is_refused_by_its_name(string spoiled, string field)
    {
        var report = Valid();
        Spoilers[spoiled](report);

        var (valid, refusal) = _validator.Validate(report);

        Assert.Null(valid);
        Assert.Equal(field, refusal!.Field);
        Assert.False(refusal.TooLarge);
        Assert.False(string.IsNullOrWhiteSpace(refusal.Reason));
    }

    [Fact]
    public void More_sockets_than_the_limit_are_refused_as_too_large_not_as_wrong()
    {
        var snapshot = _validator.Validate(Valid(Set(AllMask))).Refusal;
        var change = Valid();
        Change(change, [.. Sockets.Take(Limit)], Sockets[^1]);

        Assert.Equal(("snapshot.sockets", true), (snapshot!.Field, snapshot.TooLarge));
        var refused = _validator.Validate(change).Refusal;
        Assert.Equal(("changes", true), (refused!.Field, refused.TooLarge));
    }

    [Fact]
    public void A_change_toggles_the_digests_of_what_it_adds_and_removes()
    {
        var report = Valid();
        Change(report, [Sockets[1]], Sockets[2]);

        var valid = _validator.Validate(report).Report!;

        Assert.Equal(HostReportKind.Changes, valid.Kind);
        Assert.Equal(SocketSetHash.Member(Sockets[1]) ^ SocketSetHash.Member(Sockets[2]), valid.Toggled);
    }

    [Fact]
    public void Socket_text_is_taken_as_sent_and_an_epoch_within_the_skew_is_accepted()
    {
        var odd = Socket(Transport.Tcp, 8080, BindScope.Wildcard, "", "jävä ✓");
        var report = Valid(odd);
        report.Epoch.StartedAt = Timestamp.FromDateTime(At + Skew);

        var valid = _validator.Validate(report).Report!;

        Assert.Equal("jävä ✓", Assert.Single(valid.Added).ProcessName);
        Assert.Equal(At + Skew, valid.EpochStartedAt);
    }

    [Fact]
    public void A_snapshot_listing_a_socket_twice_is_taken_with_the_socket_counted_once_in_its_digest()
    {
        var report = Valid(Sockets[0], Sockets[3], Sockets[0].Clone());
        report.SetHash = SocketSetHash.Of([Sockets[0], Sockets[3]]).ToByteString();

        var (valid, refusal) = _validator.Validate(report);

        Assert.Null(refusal);
        Assert.Equal(SocketSetHash.Of([Sockets[0], Sockets[3]]), valid!.SetHash);
    }

    internal static void Change(HostReport report, HostSocket[] added, params HostSocket[] removed)
    {
        report.Changes = new HostChanges();
        report.Changes.Added.Add(added);
        report.Changes.Removed.Add(removed);
    }
}
