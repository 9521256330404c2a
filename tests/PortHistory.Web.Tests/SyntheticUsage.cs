using PortHistory.Contracts.V1;

namespace PortHistory.Web.Tests;

/// <summary>
/// Three years of observed usage on 776/udp up to yesterday, as a team would load it from its old logs: rpc.statd on
/// 40 hosts, then 44, then 41, and for six days an odd process on two hosts, fewer than the privacy floor of 3.
/// </summary>
public sealed class SyntheticUsage
{
    public const uint Port = 776;
    public const string Statd = "rpc.statd";
    public const string StatdExecutable = "/usr/sbin/rpc.statd";
    public const string Odd = "udp-burst";
    public const string OddExecutable = "/var/tmp/.cache/udp-burst";
    public const uint OddHosts = 2;

    public SyntheticUsage(DateOnly today)
    {
        Today = today;
        First = today.AddYears(-3);
        BurstFirst = today.AddDays(-120);
        BurstLast = today.AddDays(-115);
    }

    public DateOnly Today { get; }

    public DateOnly First { get; }

    public DateOnly Last => Today.AddDays(-1);

    public DateOnly BurstFirst { get; }

    public DateOnly BurstLast { get; }

    public uint StatdHosts(DateOnly day) => (day.DayNumber - First.DayNumber) switch
    {
        < 0 => 0,
        < 400 => 40,
        < 700 => 44,
        _ => day <= Last ? 41u : 0,
    };

    public uint OddHostsOn(DateOnly day) => day >= BurstFirst && day <= BurstLast ? OddHosts : 0;

    /// <summary>Every row, both processes bound beyond loopback on all their hosts.</summary>
    public IEnumerable<UsageRow> Rows()
    {
        ulong line = 0;
        for (var day = First; day <= Last; day = day.AddDays(1))
        {
            yield return Row(++line, day, Statd, StatdExecutable, StatdHosts(day));
            if (OddHostsOn(day) > 0) yield return Row(++line, day, Odd, OddExecutable, OddHostsOn(day));
        }
    }

    private static UsageRow Row(ulong line, DateOnly day, string process, string executable, uint hosts) => new()
    {
        Line = line, Day = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Port = Port, Transport = Transport.Udp,
        ProcessName = process, Executable = executable, Hosts = hosts, Reachable = hosts,
    };
}
