using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Configuration;

/// <summary>
/// The Orleans silo. Not the "Orleans" section: Orleans reads that one itself as provider configuration.
/// </summary>
public sealed class SiloHostingOptions
{
    public const string Section = "PortHistory:Silo";

    /// <summary>Part of every stored grain row's key: never change it for an existing database.</summary>
    [Required]
    public string ServiceId { get; set; } = "porthistory";

    [Required]
    public string ClusterId { get; set; } = "porthistory";

    /// <summary><see cref="SiloClustering.AdoNet"/> for several silos of one cluster (membership in the same PostgreSQL).</summary>
    public SiloClustering Clustering { get; set; } = SiloClustering.Localhost;

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>
    /// The silo gateway, for external Orleans clients: none of PortHistory's own parts uses one (the gRPC gateway
    /// calls grains in-process), and a grain call through it bypasses tokens and the privacy floor. Closed unless set.
    /// </summary>
    [Range(1, 65535)]
    public int? GatewayPort { get; set; }

    /// <summary>The address other silos and clients reach this one at (AdoNet clustering); loopback when unset.</summary>
    public string? AdvertisedIPAddress { get; set; }

    public bool ListenOnAnyHostAddress { get; set; }

    /// <summary>Mutual TLS for silo-to-silo and gateway connections; see <see cref="ClusterTlsOptions"/>.</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Lets a multi-silo (AdoNet) cluster start without cluster TLS: anyone who reaches its silo ports can then call
    /// grains past every token. For a lab on one trusted network only; a silo refuses to start that way otherwise.
    /// </summary>
    public bool AllowInsecureCluster { get; set; }

    /// <summary>
    /// How long a silo waits for a peer's answer to a liveness probe; after <see cref="MissedProbesLimit"/> missed ones
    /// it votes the peer dead. Shorter than Orleans' 5 s default: a cluster of a few silos on one network should notice
    /// a dead silo in seconds, because until then calls to its grains are refused.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>
    /// How often a silo records in the membership table that it is alive. A starting silo waits for every silo the
    /// table lists as active unless that silo missed two of these records: after the whole cluster died (a power
    /// loss), new silos start once that much time has passed, not after Orleans' default of ten minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan AliveRecordInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An idle port grain is deactivated after this long.</summary>
    public TimeSpan GrainCollectionAge { get; set; } = TimeSpan.FromHours(2);
}

public enum SiloClustering
{
    Localhost,
    AdoNet,
}
