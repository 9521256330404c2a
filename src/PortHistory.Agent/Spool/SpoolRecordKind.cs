namespace PortHistory.Agent.Spool;

/// <summary>What a spool record holds. Stored as one byte in each record's header.</summary>
public enum SpoolRecordKind : byte
{
    /// <summary>A SightingBatch (protobuf) of one scan, with its batch_id and each sighting's observed_at.</summary>
    FullBatch = 1,

    /// <summary>A HostReport (protobuf) of differential reporting: changes or a snapshot, with its epoch and seq.</summary>
    HostReport = 2,
}
