using System.Reflection;

namespace PortHistory.Server.UnitTests.Architecture;

/// <summary>
/// One name per concept: a domain or application type never shares its simple name with a contract (protobuf) type,
/// so a file that uses both never needs an alias to tell them apart.
/// </summary>
public sealed class TypeNameTests
{
    [Fact]
    public void No_domain_or_application_type_shares_a_name_with_a_contract_type()
    {
        var contracts = Names(typeof(Contracts.V1.GetPortRequest).Assembly, type => type.Namespace == "PortHistory.Contracts.V1")
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("GetPortRequest", contracts);
        Assembly[] domain =
        [
            typeof(Registry.History.RegistryHistory).Assembly,
            typeof(Observations.VerdictOptions).Assembly,
            typeof(Grains.Ports.PortGrain).Assembly,
            typeof(Server.Application.Sightings.SightingIngest).Assembly,
            typeof(Server.Persistence.PersistenceExtensions).Assembly,
        ];

        var clashes = domain
            .SelectMany(assembly => Names(assembly, type => type.Namespace?.StartsWith("PortHistory.", StringComparison.Ordinal) == true)
                .Where(contracts.Contains)
                .Select(name => $"{assembly.GetName().Name}: {name}"))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(clashes.Count == 0, $"types named like a PortHistory.Contracts.V1 type:\n{string.Join('\n', clashes)}");
    }

    /// <summary>The simple names (without generic arity) of the assembly's types that are written in code, nested ones too.</summary>
    private static IEnumerable<string> Names(Assembly assembly, Func<Type, bool> include) =>
        assembly.GetTypes()
            .Where(include)
            .Where(type => !type.Name.Contains('<', StringComparison.Ordinal) && !type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false))
            .Select(type => type.Name.Split('`')[0]);
}
