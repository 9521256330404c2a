namespace PortHistory.Server.Application.Following;

/// <summary>What this silo last knew of every followed source (as the follower last read or wrote it), for health and metrics.</summary>
public sealed class FollowStatus
{
    private volatile IReadOnlyList<FollowState> _sources = [];

    public IReadOnlyList<FollowState> Sources => _sources;

    public void Update(IReadOnlyList<FollowState> sources) => _sources = sources;
}
