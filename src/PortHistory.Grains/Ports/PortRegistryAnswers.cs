using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// Answers about one port's registry history under one catalog snapshot. Versions are stored with their first
/// edition only; where each ends, and which edition answers an as-of date, comes from the snapshot's edition order.
/// The answers to the common questions are built once per snapshot and shared (callers must not modify them).
/// </summary>
internal sealed class PortRegistryAnswers
{
    private readonly uint _port;
    private readonly StoredPortRegistry _timelines;
    private GetPortResponse? _latest;
    private GetTimelineResponse? _allTimelines;
    private readonly PortHistory.Observations.RegistrySide?[] _now = new PortHistory.Observations.RegistrySide?[RegistryProto.AllTransports.Count + 1];

    public PortRegistryAnswers(uint port, StoredPortRegistry timelines, CatalogSnapshot catalog)
    {
        _port = port;
        _timelines = timelines;
        Catalog = catalog;
    }

    public CatalogSnapshot Catalog { get; }

    public GetPortResponse GetPort(PortQuery query)
    {
        if (query.Transport == Transport.Unspecified && query.AsOf is null) return _latest ??= BuildPort(query);
        return BuildPort(query);
    }

    public GetTimelineResponse GetTimeline(Transport transport)
    {
        if (transport == Transport.Unspecified) return _allTimelines ??= BuildTimeline(transport);
        return BuildTimeline(transport);
    }

    private GetPortResponse BuildPort(PortQuery query)
    {
        var response = new GetPortResponse { Port = _port, PortClass = PortNumberClasses.Of((int)_port).ToProto() };
        var rank = query.AsOf is { } date ? Catalog.RankAsOf(date) : Catalog.Editions.Count - 1;
        if (rank < 0) return response;
        response.Edition = Catalog.Editions[rank];

        foreach (var transport in query.Transport == Transport.Unspecified ? RegistryProto.AllTransports : [query.Transport])
        {
            var version = VersionAt(transport, rank);
            var status = version is { Records.Count: > 0 } ? version.Records[0].Status.ToDomain() : (PortHistory.Registry.Model.RecordStatus?)null;
            if (query.Transport == Transport.Unspecified && !TransportProtocols.ShownUnasked(transport.ToDomain(), status)) continue;
            var assignment = new TransportAssignment { Transport = transport };
            if (version is not null)
            {
                assignment.Records.AddRange(version.Records);
                assignment.Since = Edition(version.From);
                assignment.HeldSince = Edition(version.HeldSince ?? version.From);
                if (version.ConventionalSince is { } conventional) assignment.ConventionalSince = Edition(conventional);
                assignment.Changes.AddRange(version.Changes);
            }

            response.Transports.Add(assignment);
        }

        return response;
    }

    private GetTimelineResponse BuildTimeline(Transport transport)
    {
        var response = new GetTimelineResponse { Port = _port, PortClass = PortNumberClasses.Of((int)_port).ToProto() };
        foreach (var stored in _timelines.Timelines)
        {
            if (transport != Transport.Unspecified && stored.Transport != transport) continue;
            var timeline = new PortTimeline { Port = _port, Transport = stored.Transport };
            for (var i = 0; i < stored.Versions.Count; i++)
            {
                var version = stored.Versions[i].Clone();
                var from = Catalog.RankOf(version.From.Id);
                var through = i + 1 < stored.Versions.Count ? Catalog.RankOf(stored.Versions[i + 1].From.Id) - 1 : Catalog.Editions.Count - 1;
                if (from < 0 || through < from) continue;
                version.From = Catalog.Editions[from];
                version.Through = Catalog.Editions[through];
                version.HeldSince = version.HeldSince is { } held ? Edition(held) : version.From;
                if (version.ConventionalSince is { } conventional) version.ConventionalSince = Edition(conventional);
                version.EditionCount = (uint)(through - from + 1);
                timeline.Versions.Add(version);
            }

            response.Timelines.Add(timeline);
        }

        if (transport != Transport.Unspecified && response.Timelines.Count == 0)
        {
            response.Timelines.Add(new PortTimeline { Port = _port, Transport = transport });
        }

        return response;
    }

    /// <summary>What the newest edition says about one transport, as verdicts need it (built once per snapshot).</summary>
    public PortHistory.Observations.RegistrySide Now(Transport transport)
    {
        var index = (int)transport;
        if (index < _now.Length && _now[index] is { } known) return known;
        var version = Catalog.Editions.Count == 0 ? null : VersionAt(transport, Catalog.Editions.Count - 1);
        var side = RegistrySides.Of(version, Edition);
        if (index < _now.Length) _now[index] = side;
        return side;
    }

    /// <summary>The version in effect in the edition of this rank, or null if the port was not listed yet.</summary>
    private TimelineVersion? VersionAt(Transport transport, int rank)
    {
        TimelineVersion? found = null;
        foreach (var timeline in _timelines.Timelines)
        {
            if (timeline.Transport != transport) continue;
            foreach (var version in timeline.Versions)
            {
                var from = Catalog.RankOf(version.From.Id);
                if (from < 0 || from > rank) break;
                found = version;
            }
        }

        return found;
    }

    private EditionRef Edition(EditionRef stored)
    {
        var rank = Catalog.RankOf(stored.Id);
        return rank < 0 ? stored : Catalog.Editions[rank];
    }
}
