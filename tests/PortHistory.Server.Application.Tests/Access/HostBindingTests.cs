using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>A per-host credential's batch may name its own host only; a shared token's may name any.</summary>
public sealed class HostBindingTests
{
    private static readonly Gen<string> HostRef = Gen.OneOf(Gen.OneOf<string>("web-1", "web-2", "db-1", " web-1", "web-1 ", "WEB-1", "web-1\t"), Gen.String[0, 12]);

    private static SightingBatch Batch(IEnumerable<string> hostRefs)
    {
        var batch = new SightingBatch { BatchId = Guid.NewGuid().ToString() };
        batch.Sightings.AddRange(hostRefs.Select(h => new Sighting { HostRef = h, Port = 22, Transport = Transport.Tcp }));
        return batch;
    }

    [Fact]
    public void A_batch_is_refused_exactly_when_a_sighting_names_a_host_other_than_the_credential_s_own()
    {
        Gen.Select(HostRef.Array[0, 8], Gen.OneOf<string>("web-1", "db-1")).Sample((hostRefs, bound) =>
        {
            var refusal = HostBinding.Refusal(bound, Batch(hostRefs));
            var other = Array.FindIndex(hostRefs, h => h.Trim() != bound);
            if (other < 0) return refusal is null;
            // The first offending sighting is named, and so is the host the credential is for; the other id is not echoed.
            return refusal is not null && refusal.StartsWith($"host_ref: sighting {other} names another host", StringComparison.Ordinal)
                   && refusal.Contains($"\"{bound}\"", StringComparison.Ordinal);
        });
    }

    [Fact]
    public void A_shared_token_may_report_for_any_host()
    {
        HostRef.Array[0, 8].Sample(hostRefs => HostBinding.Refusal(null, Batch(hostRefs)) is null);
    }
}
