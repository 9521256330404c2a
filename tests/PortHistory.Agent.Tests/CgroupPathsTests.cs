using CsCheck;
using PortHistory.Agent.Scanning;

namespace PortHistory.Agent.Tests;

public sealed class CgroupPathsTests
{
    [Theory]
    [InlineData("0::/system.slice/rpc-statd.service\n", "rpc-statd.service")]
    [InlineData("0::/system.slice/system-getty.slice/getty@tty1.service\n", "getty@tty1.service")]
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service\n", "syncthing.service")]
    // A desktop application's scope below the user's manager is not the manager.
    [InlineData("0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope\n", "")]
    [InlineData("0::/user.slice/user-1000.slice/session-2.scope\n", "")]
    [InlineData("0::/system.slice/docker-3f6d2c1b0a9e8d7c6b5a49382716051f3e2d1c0b0a99887766554433221100ff.scope\n", "")]
    [InlineData("12:pids:/system.slice/nfs-server.service\n11:memory:/system.slice/nfs-server.service\n1:name=systemd:/system.slice/nfs-server.service\n",
        "nfs-server.service")]
    // cgroup v1 with controllers elsewhere: systemd's own hierarchy says which service.
    [InlineData("4:cpu,cpuacct:/\n1:name=systemd:/system.slice/kafka.service\n", "kafka.service")]
    [InlineData("12:pids:/docker/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", "")]
    [InlineData("0::/\n", "")]
    [InlineData("0::/system.slice/bad name.service\n", "")]
    [InlineData("", "")]
    public void The_systemd_unit_is_the_service_in_the_cgroup_path(string cgroup, string expected) => Assert.Equal(expected, CgroupPaths.SystemdUnitOf(cgroup));

    private static readonly Gen<string> UnitStem = Gen.Select(Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"], 1, 12],
            Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-_."], 0, 12])
        .Select((head, tail) => head + tail);

    private static readonly Gen<string> Unit = Gen.Select(UnitStem, Gen.OneOf(Gen.Const(""), UnitStem.Select(i => "@" + i)))
        .Select((stem, instance) => stem + instance + ".service");

    private static readonly Gen<string> Slices = Gen.OneOf<string>("/system.slice", "/system.slice/system-app.slice", "/user.slice/user-1000.slice/user@1000.service/app.slice", "");

    [Fact]
    public void A_service_s_unit_is_found_in_cgroup_v2_and_v1_files() =>
        Gen.Select(Unit, Slices, Gen.Bool, Gen.OneOf<string>("pids", "memory", "cpu,cpuacct", "devices")).Sample((unit, slice, v1, controller) =>
        {
            var path = slice + "/" + unit;
            var text = v1
                // v1: one line per hierarchy; controllers may sit at the root while systemd's hierarchy names the service.
                ? $"12:{controller}:/\n5:freezer:{path}\n1:name=systemd:{path}\n"
                : $"0::{path}\n";
            Assert.Equal(unit, CgroupPaths.SystemdUnitOf(text));
            Assert.Equal("", CgroupPaths.ContainerIdOf(text));
        }, iter: 2_000);

    private static readonly Gen<string> ContainerHex = Gen.String[Gen.Char["0123456789abcdef"], 64, 64];

    [Fact]
    public void A_container_s_id_is_found_in_every_runtime_s_layout_and_is_no_unit() =>
        Gen.Select(ContainerHex, Gen.Int[0, 5]).Sample((id, layout) =>
        {
            var text = layout switch
            {
                0 => $"0::/system.slice/docker-{id}.scope\n",
                1 => $"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f.slice/cri-containerd-{id}.scope\n",
                2 => $"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9f8e.slice/crio-{id}.scope\n",
                3 => $"12:pids:/docker/{id}\n11:memory:/docker/{id}\n1:name=systemd:/docker/{id}\n",
                4 => $"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{id}.scope/container\n",
                _ => $"11:cpu,cpuacct:/kubepods/burstable/pod1a2b3c4d-5e6f/{id}\n1:name=systemd:/kubepods/burstable/pod1a2b3c4d-5e6f/{id}\n",
            };
            Assert.Equal(id, CgroupPaths.ContainerIdOf(text));
            Assert.Equal("", CgroupPaths.SystemdUnitOf(text));
        }, iter: 2_000);
}
