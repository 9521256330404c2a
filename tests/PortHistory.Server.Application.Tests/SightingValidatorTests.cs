// Over 250 lines: the specification of one validator, a case per field, sharing its builders.
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Application.Tests;

/// <summary>
/// A bad sighting is rejected naming its field, and the rest of its batch goes on; a batch-level problem refuses the
/// batch whole. Protobuf keeps enum numbers it does not know, so every enum is checked against its defined values.
/// </summary>
public sealed class SightingValidatorTests
{
    private const string BatchId = "3f2b8c1e-5a4d-4e6f-9b7a-1c2d3e4f5a6b";
    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, Action<Sighting, int>> EnumFields = new()
    {
        ["transport"] = (s, number) => s.Transport = (Transport)number,
        ["bind_scope"] = (s, number) => s.BindScope = (BindScope)number,
        ["address_family"] = (s, number) => s.AddressFamily = (AddressFamily)number,
        ["state"] = (s, number) => s.State = (SocketState)number,
    };

    private static readonly Dictionary<string, Action<Sighting, string>> TextFields = new()
    {
        ["host_ref"] = (s, text) => s.HostRef = text,
        ["process_name"] = (s, text) => s.ProcessName = text,
        ["executable"] = (s, text) => s.Executable = text,
        ["user"] = (s, text) => s.User = text,
        ["container_id"] = (s, text) => s.ContainerId = text,
        ["network_namespace"] = (s, text) => s.NetworkNamespace = text,
        ["program"] = (s, text) => s.Program = text,
        ["systemd_unit"] = (s, text) => s.SystemdUnit = text,
    };

    /// <summary>NUL, ESC, DEL, a C1 control (NEL), the right-to-left override, a bidi isolate, a lone surrogate.</summary>
    private static readonly int[] ForbiddenCodeUnits = [0x0000, 0x001B, 0x007F, 0x0085, 0x202E, 0x2066, 0xD800];

    private readonly SightingValidator _validator = new(Options.Create(new SightingOptions()), new FixedClock(Now));

    public static TheoryData<string, int> EnumFieldsAndUnknownNumbers()
    {
        var data = new TheoryData<string, int>();
        foreach (var field in EnumFields.Keys)
        {
            foreach (var number in new[] { -1, 99, int.MaxValue }) data.Add(field, number);
        }

        return data;
    }

    public static TheoryData<string, int> TextFieldsAndForbiddenCharacters()
    {
        var data = new TheoryData<string, int>();
        foreach (var field in TextFields.Keys)
        {
            foreach (var codeUnit in ForbiddenCodeUnits) data.Add(field, codeUnit);
        }

        return data;
    }

    [Theory]
    [InlineData("db/primary")]
    [InlineData("two words")]
    [InlineData("tab\tgroup")]
    [InlineData("\u202Edb")]
    public void A_batch_with_a_bad_host_group_is_refused_whole(string group)
    {
        var batch = new SightingBatch { BatchId = BatchId, HostGroup = group, Sightings = { Good("host-1"), Good("host-2") } };

        var result = _validator.Validate(batch);

        Assert.StartsWith("host_group:", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Accepted);
    }

    [Fact]
    public void A_host_group_applies_to_every_sighting_of_its_batch_and_its_length_is_bounded()
    {
        var batch = new SightingBatch { BatchId = BatchId, HostGroup = " db ", Sightings = { Good("host-1"), Good("host-2") } };
        Assert.All(_validator.Validate(batch).Accepted, s => Assert.Equal("db", s.HostGroup));
        Assert.All(Validate(Good("host-1")).Accepted, s => Assert.Equal("", s.HostGroup));

        batch.HostGroup = new string('g', SightingValidator.MaxHostGroupLength + 1);
        Assert.StartsWith("host_group:", _validator.Validate(batch).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_sighting_is_accepted_as_sent()
    {
        var result = Validate(Good("host-1"));

        Assert.Null(result.Error);
        Assert.Equal(Guid.Parse(BatchId), result.BatchId);
        Assert.Empty(result.Rejected);
        var valid = Assert.Single(result.Accepted);
        Assert.Equal((111, Transport.Tcp, "host-1", HostRefs.Hash("host-1")), (valid.Port, valid.Transport, valid.HostRef, valid.HostHash));
        Assert.Equal((BindScope.Wildcard, AddressFamily.Ipv4, SocketState.Listen), (valid.BindScope, valid.AddressFamily, valid.State));
        Assert.Equal(("rpcbind", "/usr/sbin/rpcbind", 812), (valid.Process, valid.Executable, valid.Pid));
    }

    [Theory]
    [MemberData(nameof(EnumFieldsAndUnknownNumbers))]
    public void An_unknown_enum_number_is_rejected_naming_its_field(string field, int number) =>
        AssertRejectedAmongGoodOnes(field, s => EnumFields[field](s, number));

    [Fact]
    public void An_unspecified_transport_is_rejected() =>
        AssertRejectedAmongGoodOnes("transport", s => s.Transport = Transport.Unspecified);

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_000_000)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void Nanos_outside_one_second_are_rejected_on_observed_at(int nanos) =>
        AssertRejectedAmongGoodOnes("observed_at", s => s.ObservedAt = new Timestamp { Seconds = s.ObservedAt.Seconds, Nanos = nanos });

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Seconds_beyond_the_representable_years_are_rejected_on_observed_at(long seconds) =>
        AssertRejectedAmongGoodOnes("observed_at", s => s.ObservedAt = new Timestamp { Seconds = seconds });

    [Fact]
    public void Observed_at_is_judged_by_the_server_clock()
    {
        var options = new SightingOptions();

        AssertRejectedAmongGoodOnes("observed_at", s => s.ObservedAt = Timestamp.FromDateTimeOffset(Now + options.MaxClockSkew + TimeSpan.FromSeconds(1)));
        AssertRejectedAmongGoodOnes("observed_at", s => s.ObservedAt = Timestamp.FromDateTimeOffset(Now - options.MaxAge - TimeSpan.FromSeconds(1)));
        var withinSkew = Good("host-1");
        withinSkew.ObservedAt = Timestamp.FromDateTimeOffset(Now + options.MaxClockSkew - TimeSpan.FromSeconds(1));
        Assert.Single(Validate(withinSkew).Accepted);
    }

    [Theory]
    [MemberData(nameof(TextFieldsAndForbiddenCharacters))]
    public void A_control_character_bidi_control_or_lone_surrogate_in_text_is_rejected_naming_its_field(string field, int codeUnit) =>
        AssertRejectedAmongGoodOnes(field, s => TextFields[field](s, $"rpc{(char)codeUnit}bind"));

    [Fact]
    public void A_program_and_a_systemd_unit_are_accepted_and_carried_to_the_journal_row()
    {
        var sighting = Good("host-1");
        (sighting.Program, sighting.SystemdUnit) = (" org.apache.zookeeper.server.quorum.QuorumPeerMain ", "zookeeper.service");

        var valid = Assert.Single(Validate(sighting).Accepted);

        Assert.Equal(("org.apache.zookeeper.server.quorum.QuorumPeerMain", "zookeeper.service"), (valid.Program, valid.SystemdUnit));
        Assert.Equal(("", ""), (Assert.Single(Validate(Good("host-2")).Accepted).Program, Assert.Single(Validate(Good("host-2")).Accepted).SystemdUnit));
    }

    [Theory]
    [InlineData("program", "/opt/kafka/libs/kafka_2.13-3.6.0.jar")]
    [InlineData("program", "manage.py runserver")]
    [InlineData("program", "app.py\t--token")]
    [InlineData("systemd_unit", "system.slice/rpc-statd.service")]
    [InlineData("systemd_unit", "rpc statd.service")]
    public void A_program_or_unit_that_is_a_path_or_has_arguments_is_rejected(string field, string value) =>
        AssertRejectedAmongGoodOnes(field, s => TextFields[field](s, value));

    [Theory]
    [InlineData("program", 128)]
    [InlineData("systemd_unit", 256)]
    public void A_program_or_unit_longer_than_its_limit_is_rejected_and_one_at_it_is_not(string field, int limit)
    {
        AssertRejectedAmongGoodOnes(field, s => TextFields[field](s, new string('p', limit + 1)));
        var atLimit = Good("host-1");
        TextFields[field](atLimit, new string('p', limit));
        Assert.Single(Validate(atLimit).Accepted);
    }

    [Theory]
    [InlineData(2_147_483_648u)]
    [InlineData(uint.MaxValue)]
    public void A_pid_beyond_int_max_is_rejected(uint pid) =>
        AssertRejectedAmongGoodOnes("pid", s => s.Pid = pid);

    [Fact]
    public void A_pid_of_int_max_is_accepted()
    {
        var sighting = Good("host-1");
        sighting.Pid = int.MaxValue;

        Assert.Equal(int.MaxValue, Assert.Single(Validate(sighting).Accepted).Pid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-uuid")]
    [InlineData("3f2b8c1e-5a4d-4e6f-9b7a")]
    [InlineData("3f2b8c1e-5a4d-4e6f-9b7a-1c2d3e4f5a6bff")]
    public void A_batch_id_that_is_not_a_uuid_refuses_the_whole_batch(string batchId)
    {
        var batch = new SightingBatch { BatchId = batchId };
        batch.Sightings.Add(Good("host-1"));

        var result = _validator.Validate(batch);

        Assert.NotNull(result.Error);
        Assert.StartsWith("batch_id", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Accepted);
        Assert.Empty(result.Rejected);
    }

    [Fact]
    public void A_bad_batch_id_is_not_echoed_when_it_holds_control_characters()
    {
        var batch = new SightingBatch { BatchId = "evil\u001B[2J\u202Eid" };
        batch.Sightings.Add(Good("host-1"));

        var result = _validator.Validate(batch);

        Assert.NotNull(result.Error);
        Assert.DoesNotContain("\u001B", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\u202E", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Accepted);
    }

    [Fact]
    public void A_batch_over_the_size_limit_is_refused_whole_and_one_at_the_limit_is_not()
    {
        var limit = new SightingOptions().MaxBatchSize;

        var over = Validate([.. Enumerable.Range(0, limit + 1).Select(i => Good($"host-{i}"))]);
        var at = Validate([.. Enumerable.Range(0, limit).Select(i => Good($"host-{i}"))]);

        Assert.NotNull(over.Error);
        Assert.Empty(over.Accepted);
        Assert.Empty(over.Rejected);
        Assert.Null(at.Error);
        Assert.Equal(limit, at.Accepted.Count);
    }

    [Fact]
    public void A_sighting_repeated_in_one_batch_is_rejected_as_a_duplicate()
    {
        var result = Validate(Good("host-1"), Good("host-2"), Good("host-1"));

        Assert.Null(result.Error);
        Assert.Equal(new[] { "host-1", "host-2" }, result.Accepted.Select(s => s.HostRef).ToArray());
        var duplicate = Assert.Single(result.Rejected);
        Assert.Equal(2u, duplicate.Index);
        Assert.Equal("sightings", duplicate.Field);
    }

    [Fact]
    public void A_repeat_that_differs_only_in_surrounding_spaces_is_still_a_duplicate()
    {
        var padded = Good(" host-1 ");
        padded.ProcessName = "rpcbind  ";

        var result = Validate(Good("host-1"), padded);

        Assert.Single(result.Accepted);
        Assert.Equal("sightings", Assert.Single(result.Rejected).Field);
    }

    [Fact]
    public void The_same_socket_seen_under_another_pid_is_not_a_duplicate()
    {
        var restarted = Good("host-1");
        restarted.Pid = 813;

        var result = Validate(Good("host-1"), restarted);

        Assert.Equal(2, result.Accepted.Count);
        Assert.Empty(result.Rejected);
    }

    /// <summary>A good sighting, spoiled, between two good ones: it alone is rejected, naming the field; the others are accepted.</summary>
    private void AssertRejectedAmongGoodOnes(string field, Action<Sighting> spoil)
    {
        var bad = Good("host-bad");
        spoil(bad);

        var result = Validate(Good("host-1"), bad, Good("host-2"));

        Assert.Null(result.Error);
        Assert.Equal(new[] { "host-1", "host-2" }, result.Accepted.Select(s => s.HostRef).ToArray());
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(1u, rejected.Index);
        Assert.Equal(field, rejected.Field);
        Assert.NotEmpty(rejected.Reason);
    }

    private ValidatedBatch Validate(params Sighting[] sightings)
    {
        var batch = new SightingBatch { BatchId = BatchId };
        batch.Sightings.AddRange(sightings);
        return _validator.Validate(batch);
    }

    private static Sighting Good(string hostRef) => new()
    {
        HostRef = hostRef,
        ObservedAt = Timestamp.FromDateTimeOffset(Now.AddMinutes(-1)),
        Transport = Transport.Tcp,
        AddressFamily = AddressFamily.Ipv4,
        LocalAddress = "0.0.0.0",
        BindScope = BindScope.Wildcard,
        Port = 111,
        State = SocketState.Listen,
        ProcessName = "rpcbind",
        Executable = "/usr/sbin/rpcbind",
        Pid = 812,
        User = "_rpc",
        ContainerId = "",
        NetworkNamespace = "net:[4026531840]",
    };

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
