using System.Net;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;
using PortHistory.Contracts;

namespace PortHistory.Server.Application.Sightings;

public sealed record ValidatedBatch(Guid BatchId, IReadOnlyList<ValidSighting> Accepted, IReadOnlyList<RejectedSighting> Rejected, string? Error);

/// <summary>
/// Checks a batch: the bad sightings are rejected with their field and reason, the good ones go on. A batch-level
/// problem (batch_id not a UUID, too many sightings, a bad host_group) refuses the batch as a whole.
/// </summary>
public sealed class SightingValidator(IOptions<SightingOptions> options, TimeProvider clock)
{
    /// <summary>The longest host group label; the same bound applies to expectations' groups.</summary>
    public const int MaxHostGroupLength = 64;

    public ValidatedBatch Validate(SightingBatch batch)
    {
        if (!Guid.TryParse(batch.BatchId, out var batchId))
        {
            // Echoed only when it is short plain text.
            return new ValidatedBatch(Guid.Empty, [], [], WireText.Check(batch.BatchId, 64) is null
                ? $"batch_id: \"{batch.BatchId}\" is not a UUID"
                : "batch_id: is not a UUID");
        }

        var limit = options.Value.MaxBatchSize;
        if (batch.Sightings.Count > limit) return new ValidatedBatch(batchId, [], [], $"sightings: {batch.Sightings.Count} in one batch; the limit is {limit}");

        if (WireText.CheckName(batch.HostGroup, MaxHostGroupLength) is { } group) return new ValidatedBatch(batchId, [], [], $"host_group: {group}");
        var hostGroup = batch.HostGroup.Trim();

        var now = clock.GetUtcNow().UtcDateTime;
        var accepted = new List<ValidSighting>(batch.Sightings.Count);
        var rejected = new List<RejectedSighting>();
        var seen = new Dictionary<(string, int, Transport, string, string, string, DateTime, uint), int>();
        for (var i = 0; i < batch.Sightings.Count; i++)
        {
            var s = batch.Sightings[i];
            var reason = Check(s, now, out var valid);
            if (reason is not null)
            {
                rejected.Add(new RejectedSighting { Index = (uint)i, Field = reason.Value.Field, Reason = reason.Value.Reason });
                continue;
            }

            var key = (valid!.HostRef, valid.Port, valid.Transport, valid.Process, valid.Executable, valid.LocalAddress, valid.ObservedAt, s.Pid);
            if (seen.TryGetValue(key, out var first))
            {
                rejected.Add(new RejectedSighting { Index = (uint)i, Field = "sightings", Reason = $"duplicate of sighting {first} in this batch" });
                continue;
            }

            seen[key] = i;
            accepted.Add(hostGroup.Length == 0 ? valid : valid with { HostGroup = hostGroup });
        }

        return new ValidatedBatch(batchId, accepted, rejected, null);
    }

    private (string Field, string Reason)? Check(Sighting s, DateTime now, out ValidSighting? valid)
    {
        valid = null;
        if (!s.HasPort) return ("port", "is required (0-65535)");
        if (s.Port > 65535) return ("port", $"must be 0-65535, got {s.Port}");
        // Protobuf keeps enum numbers it does not know: every enum is checked against its defined values.
        if (s.Transport == Transport.Unspecified) return ("transport", "is required (tcp, udp, sctp or dccp)");
        if (!Enum.IsDefined(s.Transport)) return ("transport", $"unknown transport {(int)s.Transport}");
        if (!Enum.IsDefined(s.BindScope)) return ("bind_scope", $"unknown bind scope {(int)s.BindScope}");
        if (!Enum.IsDefined(s.AddressFamily)) return ("address_family", $"unknown address family {(int)s.AddressFamily}");
        if (!Enum.IsDefined(s.State)) return ("state", $"unknown socket state {(int)s.State}");
        if (WireText.Check(s.HostRef, 128, required: true) is { } badHostRef) return ("host_ref", badHostRef);
        if (s.ObservedAt is null) return ("observed_at", "is required");
        // Timestamp.ToDateTime checks nanos (0-999,999,999) and the seconds' range (years 1-9999).
        if (s.ObservedAt.Nanos is < 0 or > 999_999_999) return ("observed_at", $"nanos must be 0-999999999, got {s.ObservedAt.Nanos}");
        DateTime observed;
        try
        {
            observed = s.ObservedAt.ToDateTime();
        }
        catch (InvalidOperationException)
        {
            return ("observed_at", "is not a valid timestamp");
        }

        if (observed > now + options.Value.MaxClockSkew) return ("observed_at", $"is in the future ({observed:O}, server time {now:O})");
        if (observed < now - options.Value.MaxAge) return ("observed_at", $"is older than the accepted window of {options.Value.MaxAge.TotalDays:0} days");
        if (s.ProcessName.Trim().Length == 0 && s.Executable.Trim().Length == 0) return ("process_name", "is required (or executable)");
        if (WireText.Check(s.ProcessName, 256) is { } process) return ("process_name", process);
        if (WireText.Check(s.Executable, 4096) is { } executable) return ("executable", executable);
        if (WireText.Check(s.User, 256) is { } user) return ("user", user);
        if (WireText.Check(s.ContainerId, 256) is { } container) return ("container_id", container);
        if (WireText.Check(s.NetworkNamespace, 256) is { } netns) return ("network_namespace", netns);
        if (WireText.CheckName(s.Program, 128) is { } program) return ("program", program);
        if (WireText.CheckName(s.SystemdUnit, 256) is { } unit) return ("systemd_unit", unit);
        if (s.Pid > int.MaxValue) return ("pid", $"must be at most {int.MaxValue}, got {s.Pid}");

        if (WireText.Check(s.LocalAddress, 64) is { } badAddress) return ("local_address", badAddress);
        var address = s.LocalAddress.Trim();
        IPAddress? parsed = null;
        if (address.Length > 0 && !IPAddress.TryParse(WithoutZone(address), out parsed)) return ("local_address", $"\"{address}\" is not an IP address");
        var scope = s.BindScope;
        if (scope == BindScope.Unspecified)
        {
            if (parsed is null) return ("bind_scope", "is unspecified and there is no local_address to derive it from");
            scope = parsed.Equals(IPAddress.Any) || parsed.Equals(IPAddress.IPv6Any) ? BindScope.Wildcard
                : IPAddress.IsLoopback(parsed) ? BindScope.Loopback
                : BindScope.Specific;
        }

        var family = s.AddressFamily != AddressFamily.Unspecified ? s.AddressFamily
            : parsed?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? AddressFamily.Ipv6
            : parsed is not null ? AddressFamily.Ipv4
            : AddressFamily.Unspecified;
        var state = s.State != SocketState.Unspecified ? s.State : s.Transport == Transport.Tcp ? SocketState.Listen : SocketState.Bound;
        var hostRef = s.HostRef.Trim();
        valid = new ValidSighting((int)s.Port, s.Transport, hostRef, HostRefs.Hash(hostRef), observed, family, address, scope, state,
            s.ProcessName.Trim().Length > 0 ? s.ProcessName.Trim() : Path.GetFileName(s.Executable.Trim()),
            s.Executable.Trim(), (int)s.Pid, s.User.Trim(), s.AgentPrivileged, s.ContainerId.Trim(), s.NetworkNamespace.Trim(),
            s.Program.Trim(), s.SystemdUnit.Trim());
        return null;
    }

    /// <summary>"fe80::1%eth0" → "fe80::1": the zone does not change the scope.</summary>
    private static ReadOnlySpan<char> WithoutZone(string address)
    {
        var zone = address.IndexOf('%');
        return zone < 0 ? address : address.AsSpan(0, zone);
    }
}
