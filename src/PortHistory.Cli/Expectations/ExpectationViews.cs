using PortHistory.Registry.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Expectations;

/// <summary>What an import of an expectations file changed (or would change, for a dry run).</summary>
public sealed record ExpectationChanges(
    IReadOnlyList<ExpectationView> Added,
    IReadOnlyList<ExpectationView> Removed,
    IReadOnlyList<ExpectationView> Changed,
    uint Unchanged,
    bool DryRun);

/// <summary>Expectations between the contract and the CLI's view.</summary>
public static class ExpectationViews
{
    public static Expectation ToContract(ExpectationView view) => new()
    {
        Port = (uint)view.Port,
        Transport = view.Transport.ToProto(),
        Process = view.Process,
        HostGroup = view.Group ?? "",
        Note = view.Note ?? "",
    };

    public static ExpectationView ToView(Expectation expectation) => new(
        (int)expectation.Port,
        expectation.Transport.ToDomain(),
        expectation.Process,
        expectation.HostGroup.Length == 0 ? null : expectation.HostGroup,
        expectation.Note.Length == 0 ? null : expectation.Note,
        expectation.SetBy.Length == 0 ? null : expectation.SetBy,
        expectation.SetAt?.ToDateTime());
}
