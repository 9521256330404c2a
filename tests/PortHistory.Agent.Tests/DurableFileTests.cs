using System.Text;
using PortHistory.Agent.Health;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent.Tests;

/// <summary>Whole-file replacement: the temporary file is created exclusively, never through a link planted at its name.</summary>
public sealed class DurableFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-durable-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void The_file_is_replaced_whole_and_no_temporary_file_is_left()
    {
        var path = PathOf("state");
        DurableFile.Replace(path, "first"u8);
        DurableFile.Replace(path, "second"u8);

        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_directory));
    }

    [Fact]
    public void A_symbolic_link_at_the_temporary_name_is_never_written_through()
    {
        var victim = PathOf("victim");
        File.WriteAllText(victim, "precious");
        var path = PathOf("status.prom");
        File.CreateSymbolicLink(path + ".tmp", victim);

        var refused = Assert.Throws<IOException>(() => DurableFile.Replace(path, "planted"u8));

        Assert.Contains("symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Equal(victim, new FileInfo(path + ".tmp").LinkTarget);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_dangling_symbolic_link_at_the_temporary_name_creates_nothing_where_it_points()
    {
        var target = PathOf("elsewhere");
        var path = PathOf("ack");
        File.CreateSymbolicLink(path + ".tmp", target);

        Assert.Throws<IOException>(() => DurableFile.Replace(path, "planted"u8));

        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_regular_temporary_file_left_by_a_crash_is_replaced()
    {
        var path = PathOf("ack");
        File.WriteAllText(path + ".tmp", "half a write");

        DurableFile.Replace(path, "whole"u8);

        Assert.Equal("whole", File.ReadAllText(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void A_metrics_file_whose_temporary_name_is_a_link_is_not_written_and_the_agent_says_so()
    {
        var victim = PathOf("victim");
        File.WriteAllText(victim, "precious");
        var metrics = PathOf("porthistory-agent.prom");
        File.CreateSymbolicLink(metrics + ".tmp", victim);
        var error = new StringWriter();
        var status = new StatusFiles(PathOf(AgentStatus.FileName), metrics, () => new SpoolFigures(0, 0, 0, 0, 0), () => new PortHistory.Contracts.V1.SpoolDrops(), error);

        status.Publish();

        Assert.Equal("precious", File.ReadAllText(victim, Encoding.UTF8));
        Assert.Contains($"cannot write {metrics}", error.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(PathOf(AgentStatus.FileName)));
    }
}
