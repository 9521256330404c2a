using System.Data.Common;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Tests.Support;

namespace PortHistory.Grains.Tests;

/// <summary>
/// A port grain whose database is down answers its caller at once with an error every silo can read. The driver's own
/// exceptions have no Orleans codec: a response carrying one is never sent, and a caller on another silo (the
/// dispatcher delivering sightings) would wait out the whole response timeout instead of trying again.
/// </summary>
[Collection(PortGrainCollection.Name)]
public sealed class PortGrainStorageFailureTests(PortGrainCluster fixture)
{
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_delivery_whose_journal_read_fails_is_answered_with_a_transient_storage_error_and_counts_once_retried()
    {
        const int port = 3101, writer = 9;
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);
        Assert.Empty((await grain.GetObservedAsync(Transport.Unspecified, false)).Value.Observed.Transports);
        var hosts = new ListenerScript();
        var missed = hosts.Start(1, "myapp", At);
        var delivered = hosts.Start(2, "myapp", At);
        PortGrainCluster.Journal.Append(port, writer, [.. missed, .. delivered]);
        var delivery = new Orleans.Concurrency.Immutable<ObservationDelta[]>([new ObservationDelta(writer, missed[^1].Seq, delivered)]);

        PortGrainCluster.Journal.Unreachable[port] = true;
        var failure = await Assert.ThrowsAsync<PortStorageException>(() => grain.ObserveAsync(delivery).WaitAsync(Promptly));
        PortGrainCluster.Journal.Unreachable.TryRemove(port, out _);
        await grain.ObserveAsync(delivery);

        Assert.True(failure.Transient, failure.Message);
        Assert.Contains($"port {port}", failure.Message, StringComparison.Ordinal);
        Assert.Equal(2UL, Assert.Single((await grain.GetObservedAsync(Transport.Unspecified, false)).Value.Observed.Transports).OnlineHosts);
    }

    [Fact]
    public async Task An_activation_whose_journal_read_fails_is_answered_with_a_transient_storage_error_and_the_next_call_activates()
    {
        const int port = 3102, writer = 9;
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);
        PortGrainCluster.Journal.Append(port, writer, new ListenerScript().Start(1, "myapp", At));

        PortGrainCluster.Journal.Unreachable[port] = true;
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => grain.GetObservedAsync(Transport.Unspecified, false).WaitAsync(Promptly));
        PortGrainCluster.Journal.Unreachable.TryRemove(port, out _);

        Assert.True(Storage(failure) is { Transient: true }, failure.ToString());
        Assert.Equal(1UL, Assert.Single((await grain.GetObservedAsync(Transport.Unspecified, false)).Value.Observed.Transports).OnlineHosts);
    }

    private static PortStorageException? Storage(Exception? e) => e is null or PortStorageException ? e as PortStorageException : Storage(e.InnerException);
}

/// <summary>What a database driver throws when its server is gone: a transient error of a type Orleans cannot serialize.</summary>
internal sealed class UnreachableDatabaseException() : DbException("the database is restarting")
{
    public override bool IsTransient => true;
}
