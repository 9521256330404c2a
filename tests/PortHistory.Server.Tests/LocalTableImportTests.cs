using Google.Protobuf;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// A local service table (/etc/services, nmap-services) imported beside the registry editions holds no place in the
/// registry's history: it must not become "the newest edition" that answers, lists and diffs go by.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LocalTableImportTests(RegistryServerFixture fixture)
{
    [Fact]
    public async Task Importing_a_local_services_table_leaves_the_newest_registry_edition_answering()
    {
        // The newest registry edition is in the database before the table comes.
        await SightingsServer.CreateDatabaseAsync(fixture.Postgres, "local-table");
        await using var server = new ServerProcess(fixture.Postgres.ConnectionString("local-table"));
        await server.StartAsync();

        var client = new RegistryAdmin.RegistryAdminClient(server.Channel);
        using (var call = client.ImportEdition())
        {
            await call.RequestStream.WriteAsync(new ImportEditionRequest
            {
                Header = new ImportEditionHeader { FileName = "services", Format = EditionFormat.Services, EffectiveDate = new Google.Type.Date { Year = 2026, Month = 9, Day = 1 } },
            });
            await call.RequestStream.WriteAsync(new ImportEditionRequest { Chunk = ByteString.CopyFromUtf8("# /etc/services\nwpages\t776/udp\nsunrpc\t111/tcp\tportmapper\n") });
            await call.RequestStream.CompleteAsync();
            var progress = new List<ImportEditionProgress>();
            await foreach (var message in call.ResponseStream.ReadAllAsync()) progress.Add(message);
            Assert.Equal(ImportStage.Committed, progress[^1].Stage);
        }

        var registry = new PortRegistry.PortRegistryClient(server.Channel);
        var port = await registry.GetPortAsync(new GetPortRequest { Port = 776 });
        Assert.Equal("iana-xml-2026-08-17", port.Edition.Id);
        var listed = new List<PortAssignment>();
        using (var list = registry.ListPorts(new ListPortsRequest { Range = new PortRange { First = 770, Last = 777 } }))
        {
            await foreach (var page in list.ResponseStream.ReadAllAsync())
            {
                Assert.Equal("iana-xml-2026-08-17", page.Edition.Id);
                listed.AddRange(page.Ports);
            }
        }

        Assert.Contains(listed, p => p.Port == 776 && p.Transport == Transport.Udp);
        using var diff = registry.DiffEditions(new DiffEditionsRequest { FromEdition = "iana-xml-2026-08-17", ToEdition = "iana-xml-2026-08-17" });
        await foreach (var page in diff.ResponseStream.ReadAllAsync()) Assert.Equal("iana-xml-2026-08-17", page.To.Id);
    }
}
