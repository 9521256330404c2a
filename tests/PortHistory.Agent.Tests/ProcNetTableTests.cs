using System.Net;
using PortHistory.Agent.Scanning;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

public sealed class ProcNetTableTests
{
    // Rows as a 6.x kernel prints them: sshd on 0.0.0.0:22, PostgreSQL (uid 112) on 127.0.0.1:5432, nginx on
    // 10.0.2.15:80, and an established SSH connection from 10.0.2.2 that is not a listener.
    private const string Tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18233 1 0000000000000000 100 0 0 10 0
           1: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   112        0 20511 1 0000000000000000 100 0 0 10 0
           2: 0F02000A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 20733 1 0000000000000000 100 0 0 10 0
           3: 0F02000A:0016 0202000A:D2F4 01 00000000:00000000 02:0009F6A5 00000000     0        0 48872 4 0000000000000000 20 4 31 10 -1
        """;

    // sshd on [::]:22, cupsd on [::1]:631, a v4-mapped listener, a link-local one, and a TIME_WAIT leftover.
    private const string Tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18244 1 0000000000000000 100 0 0 10 0
           1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19100 1 0000000000000000 100 0 0 10 0
           2: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 30001 1 0000000000000000 100 0 0 10 0
           3: 000080FE000000000000000001000000:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 30002 1 0000000000000000 100 0 0 10 0
           4: 00000000000000000000000001000000:0277 00000000000000000000000001000000:B8A2 06 00000000:00000000 03:00000F5C 00000000     0        0 0 3 0000000000000000
        """;

    // rpcbind's port 776 (0308), systemd-resolved on 127.0.0.53:53, and a connected UDP socket to 8.8.8.8:53.
    private const string Udp = """
           sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
          133: 00000000:0308 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 17125 2 0000000000000000 0
          180: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 16522 2 0000000000000000 0
          301: 0F02000A:9C4E 08080808:0035 01 00000000:00000000 00:00000000 00000000  1000        0 51234 2 0000000000000000 0
        """;

    [Fact]
    public void Tcp_listeners_are_read_with_address_port_uid_and_inode_and_connections_are_skipped()
    {
        var entries = ProcNetTable.Parse(Tcp, Transport.Tcp, AddressFamily.Ipv4);

        Assert.Equal(
        [
            new SocketEntry(Transport.Tcp, AddressFamily.Ipv4, IPAddress.Parse("0.0.0.0"), 22, SocketState.Listen, 0, 18233),
            new SocketEntry(Transport.Tcp, AddressFamily.Ipv4, IPAddress.Parse("127.0.0.1"), 5432, SocketState.Listen, 112, 20511),
            new SocketEntry(Transport.Tcp, AddressFamily.Ipv4, IPAddress.Parse("10.0.2.15"), 80, SocketState.Listen, 33, 20733),
        ], entries);
    }

    [Fact]
    public void Tcp6_addresses_are_decoded_word_by_word()
    {
        var entries = ProcNetTable.Parse(Tcp6, Transport.Tcp, AddressFamily.Ipv6);

        Assert.Equal(["::", "::1", "::ffff:127.0.0.1", "fe80::1"], entries.Select(e => e.Address.ToString()));
        Assert.Equal([22, 631, 8080, 9090], entries.Select(e => e.Port));
        Assert.Equal([18244UL, 19100, 30001, 30002], entries.Select(e => e.Inode));
        Assert.All(entries, e => Assert.Equal(SocketState.Listen, e.State));
        Assert.All(entries, e => Assert.Equal(AddressFamily.Ipv6, e.AddressFamily));
        Assert.Equal(1000u, entries[2].Uid);
    }

    [Fact]
    public void Unconnected_udp_sockets_are_bound_and_connected_ones_are_skipped()
    {
        var entries = ProcNetTable.Parse(Udp, Transport.Udp, AddressFamily.Ipv4);

        Assert.Equal(
        [
            new SocketEntry(Transport.Udp, AddressFamily.Ipv4, IPAddress.Any, 776, SocketState.Bound, 0, 17125),
            new SocketEntry(Transport.Udp, AddressFamily.Ipv4, IPAddress.Parse("127.0.0.53"), 53, SocketState.Bound, 101, 16522),
        ], entries);
    }

    [Fact]
    public void Udp_state_0A_is_not_a_listener_and_tcp_state_07_is_not_bound()
    {
        // The state codes only mean LISTEN and unconnected for their own transport.
        Assert.Empty(ProcNetTable.Parse(Udp, Transport.Tcp, AddressFamily.Ipv4));
        Assert.Empty(ProcNetTable.Parse(Tcp, Transport.Udp, AddressFamily.Ipv4));
    }

    [Fact]
    public void The_same_socket_listed_twice_is_reported_once_but_two_sockets_on_one_port_are_both_kept()
    {
        const string row = "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18233 1 0000000000000000 100 0 0 10 0";
        const string reusePort = "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18234 1 0000000000000000 100 0 0 10 0";

        var entries = ProcNetTable.Parse(string.Join('\n', row, row, reusePort), Transport.Tcp, AddressFamily.Ipv4);

        Assert.Equal([18233UL, 18234], entries.Select(e => e.Inode));
    }

    [Fact]
    public void Malformed_lines_and_a_table_of_the_wrong_family_give_nothing()
    {
        const string garbage = """
              sl  local_address rem_address   st
               0: 0100007F:1538 00000000:0000 0A
               1: XYZ0007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20511 1
               2: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 notanumber 1
            """;

        Assert.Empty(ProcNetTable.Parse(garbage, Transport.Tcp, AddressFamily.Ipv4));
        Assert.Empty(ProcNetTable.Parse(Tcp, Transport.Tcp, AddressFamily.Ipv6));
        Assert.Empty(ProcNetTable.Parse(Tcp6, Transport.Tcp, AddressFamily.Ipv4));
        Assert.Empty(ProcNetTable.Parse("", Transport.Tcp, AddressFamily.Ipv4));
    }
}
