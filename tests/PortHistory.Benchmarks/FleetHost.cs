using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>A fault the next turn of a host plays.</summary>
internal enum FleetFault
{
    None,
    /// <summary>The agent lost its state: a new epoch, which begins with a snapshot.</summary>
    StateLoss,
    /// <summary>A change sent twice: the second must be DUPLICATE.</summary>
    Duplicate,
    /// <summary>A change never sent: the next report must be answered RESYNC.</summary>
    Drop,
    /// <summary>Two changes sent in the wrong order: the later one first (RESYNC), then the earlier (APPLIED).</summary>
    Reorder,
    /// <summary>The whole set again in the same epoch (every host at once: a restart storm).</summary>
    Snapshot,
}

/// <summary>
/// One simulated host as its agent keeps it: the epoch, the seq of the last change or snapshot, the set and its
/// digest. The set changes when a change is made, whether or not the server ever hears of it (a dropped report).
/// </summary>
internal sealed class FleetHost(string reference, HashSet<int> kinds, ulong epoch)
{
    public string Ref { get; } = reference;

    public HashSet<int> Kinds { get; } = kinds;

    public ulong Epoch { get; private set; } = epoch;

    public Timestamp EpochStartedAt { get; private set; } = Timestamp.FromDateTime(DateTime.UtcNow);

    public ulong Seq { get; private set; }

    public SocketSetHash Hash { get; private set; }

    /// <summary>The server must be sent the whole set next (a new epoch, or a RESYNC to answer).</summary>
    public bool NeedsSnapshot { get; set; } = true;

    /// <summary>A fault played on purpose is not yet healed: RESYNCs until the next applied snapshot are expected.</summary>
    public bool ExpectsResync { get; set; }

    public volatile FleetFault Fault;

    /// <summary>The outcome of the last report the server answered.</summary>
    public HostReportOutcome LastOutcome { get; set; }

    public void StartEpoch(ulong id)
    {
        Epoch = id;
        EpochStartedAt = Timestamp.FromDateTime(DateTime.UtcNow);
        Seq = 0;
        NeedsSnapshot = true;
    }

    public HostReport Snapshot(FleetCatalog catalog)
    {
        var snapshot = new HostSnapshot();
        snapshot.Sockets.AddRange(Kinds.Select(k => catalog[k]));
        Hash = SocketSetHash.Of(snapshot.Sockets);
        return Report(++Seq, new HostReport { Snapshot = snapshot });
    }

    public HostReport Heartbeat() => Report(Seq, new HostReport { Heartbeat = new HostHeartbeat() });

    /// <summary>
    /// One socket replaced, added or removed (the set stays between 40 and 60): the model changes now, and the report
    /// carries the change with the next seq.
    /// </summary>
    public HostReport Change(FleetCatalog catalog, Random random)
    {
        var changes = new HostChanges();
        var roll = random.Next(4);
        if (Kinds.Count > 40 && (roll == 0 || roll == 1 || Kinds.Count >= 60))
        {
            var gone = Kinds.ElementAt(random.Next(Kinds.Count));
            Kinds.Remove(gone);
            changes.Removed.Add(catalog[gone]);
            Hash ^= catalog.Member(gone);
        }

        if (roll != 0 || changes.Removed.Count == 0)
        {
            int added;
            do added = catalog.Draw(random);
            while (Kinds.Contains(added) && Kinds.Count < catalog.Count);
            Kinds.Add(added);
            changes.Added.Add(catalog[added]);
            Hash ^= catalog.Member(added);
        }

        return Report(++Seq, new HostReport { Changes = changes });
    }

    private HostReport Report(ulong seq, HostReport report)
    {
        report.HostRef = Ref;
        report.Epoch = new ReportEpoch { Id = Epoch, StartedAt = EpochStartedAt };
        report.Seq = seq;
        report.SetHash = Hash.ToByteString();
        report.ObservedAt = Timestamp.FromDateTime(DateTime.UtcNow);
        report.AgentVersion = "fleet-sim";
        report.AgentPrivileged = true;
        return report;
    }
}
