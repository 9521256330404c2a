using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// A per-host credential reports for its own host only: a batch naming any other host_ref is refused as a whole, so
/// that one enrolled host cannot pose as others (and, say, push a process over the privacy floor with made-up hosts).
/// A shared agent token (bound to no host) may report for any host.
/// </summary>
public static class HostBinding
{
    /// <summary>Why the batch is refused, or null when the credential may send it.</summary>
    public static string? Refusal(string? boundHostRef, SightingBatch batch)
    {
        if (boundHostRef is null) return null;
        for (var i = 0; i < batch.Sightings.Count; i++)
        {
            // Compared as the validator records it (trimmed), so a padded copy of the host's own id is no other host.
            if (!batch.Sightings[i].HostRef.AsSpan().Trim().SequenceEqual(boundHostRef))
            {
                return $"host_ref: sighting {i} names another host; this credential reports for host \"{boundHostRef}\" only, so the batch was not recorded";
            }
        }

        return null;
    }
}
