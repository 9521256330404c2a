using PortHistory.Agent.Scanning;

namespace PortHistory.Agent.Tests;

public sealed class ProcFsTests
{
    [Theory]
    [InlineData("socket:[12345]", 12345UL)]
    [InlineData("socket:[0]", 0UL)]
    [InlineData("pipe:[12345]", null)]
    [InlineData("anon_inode:[eventpoll]", null)]
    [InlineData("/dev/null", null)]
    [InlineData("socket:[12a]", null)]
    [InlineData(null, null)]
    public void Socket_inodes_come_from_socket_links_only(string? link, ulong? expected) => Assert.Equal(expected, ProcFs.SocketInode(link));

    [Fact]
    public void The_effective_uid_is_the_second_field_of_the_uid_line()
    {
        const string status = "Name:\tsudo\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";

        Assert.Equal(0u, ProcFs.EffectiveUid(status));
        Assert.Null(ProcFs.EffectiveUid("Name:\tx\n"));
        Assert.Null(ProcFs.EffectiveUid(null));
    }

    [Fact]
    public void A_non_root_agent_with_cap_sys_ptrace_counts_as_privileged()
    {
        // CAP_SYS_PTRACE (bit 19) and CAP_DAC_READ_SEARCH (bit 2), as the packaged service runs.
        const string service = "Name:\tporthistory-agen\nUid:\t998\t998\t998\t998\nCapInh:\t0000000000000000\nCapEff:\t0000000000080004\n";

        Assert.Equal(0x80004UL, ProcFs.EffectiveCapabilities(service));
        Assert.True(SightingScanner.IsPrivileged(service));
        Assert.False(SightingScanner.IsPrivileged(service.Replace("0000000000080004", "0000000000000004", StringComparison.Ordinal)));
        Assert.True(SightingScanner.IsPrivileged("Uid:\t0\t0\t0\t0\nCapEff:\t0000000000000000\n"));
        Assert.False(SightingScanner.IsPrivileged(null));
    }

    [Fact]
    public void User_names_come_from_passwd_and_unknown_uids_stay_numbers()
    {
        var names = UserNames.Parse("root:x:0:0:root:/root:/bin/bash\n# comment\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\nbroken\n");

        Assert.Equal("root", names.NameOf(0));
        Assert.Equal("www-data", names.NameOf(33));
        Assert.Equal("1001", names.NameOf(1001));
    }

    [Theory]
    [InlineData("0::/system.slice/docker-3f6d2c1b0a9e8d7c6b5a49382716051f3e2d1c0b0a99887766554433221100ff.scope\n",
        "3f6d2c1b0a9e8d7c6b5a49382716051f3e2d1c0b0a99887766554433221100ff")]
    [InlineData("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/cri-containerd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("12:memory:/docker/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData("0::/user.slice/user-1000.slice/session-2.scope\n", "")]
    // 65 hex digits is not a container id.
    [InlineData("0::/x/ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\n", "")]
    public void The_container_id_is_a_64_hex_digit_name_in_the_cgroup_path(string cgroup, string expected) =>
        Assert.Equal(expected, CgroupPaths.ContainerIdOf(cgroup));

    [Fact]
    public void A_command_line_is_its_nul_ended_arguments()
    {
        Assert.Equal(["java", "-jar", "app.jar", ""], ProcFs.CommandLine("java\0-jar\0app.jar\0\0"));
        // A rewritten title may lack the final NUL and hold spaces: one argument, as it is.
        Assert.Equal(["puma 6.4.0 (tcp://0.0.0.0:3000) [app]"], ProcFs.CommandLine("puma 6.4.0 (tcp://0.0.0.0:3000) [app]"));
        Assert.Empty(ProcFs.CommandLine(""));
        Assert.Empty(ProcFs.CommandLine(null));
    }

    [Fact]
    public void A_long_command_line_is_read_up_to_a_cap_and_loses_only_its_cut_argument()
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-cmdline-");
        try
        {
            var path = Path.Combine(directory.FullName, "cmdline");
            // A classpath longer than the cap, then the main class: what was read is whole arguments only.
            string[] argv = ["java", "-cp", string.Join(':', Enumerable.Range(0, 20_000).Select(i => $"/opt/lib/dep{i}.jar")), "kafka.Kafka"];
            File.WriteAllText(path, string.Concat(argv.Select(a => a + "\0")));

            var read = ProcFs.TryReadCommandLine(path);

            Assert.Equal(["java", "-cp"], read);
            Assert.Null(ProcFs.TryReadCommandLine(Path.Combine(directory.FullName, "missing")));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { 1, 812 }, 812)]
    [InlineData(new[] { 900, 812, 1 }, 812)]
    [InlineData(new[] { 1 }, 1)]
    public void A_shared_socket_belongs_to_the_lowest_pid_other_than_init(int[] pids, int expected) =>
        Assert.Equal(expected, SocketOwnerIndex.ChooseOwner(pids));
}
