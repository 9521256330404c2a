using System.Globalization;
using System.Xml;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// IANA service-names-port-numbers.xml. Records may lack a number (service-name-only registrations) or a protocol
/// (unassigned ranges); people are listed once at the end and resolved by id. Inline &lt;xref&gt;s in text render as
/// "[RFC4146]" / "[Bernie_Volz]", which is how IANA's CSV renders the same text.
/// </summary>
public sealed class IanaXmlParser : IEditionParser
{
    private const string Namespace = "http://www.iana.org/assignments";

    public EditionFileFormat Format => EditionFileFormat.IanaXml;

    public ParsedEdition Parse(EditionContent content)
    {
        content.RejectBinary();
        var warnings = new List<EditionParseWarning>();
        var pending = new List<PendingXmlRecord>();
        var people = new Dictionary<string, RegistryPerson>(StringComparer.Ordinal);
        string? title = null;
        DateOnly? updated = null;

        using var stream = new MemoryStream(content.Bytes.ToArray(), writable: false);
        using var reader = XmlReader.Create(stream, new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            XmlResolver = null,
        });
        var lineInfo = (IXmlLineInfo)reader;
        try
        {
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "registry")
            {
                throw content.Error(lineInfo.LineNumber, $"root element is <{reader.LocalName}>, not an IANA <registry>");
            }

            var registryId = reader.GetAttribute("id");
            if (registryId is not null && registryId != "service-names-port-numbers")
            {
                throw content.Error(lineInfo.LineNumber, $"registry \"{registryId}\" is not the service-names-port-numbers registry");
            }

            var depth = reader.Depth;
            reader.Read();
            while (!reader.EOF && !(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    reader.Read();
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "title" when title is null:
                        title = TextLines.CollapseWhitespace(reader.ReadElementContentAsString());
                        break;
                    case "updated" when updated is null:
                        var line = lineInfo.LineNumber;
                        var text = reader.ReadElementContentAsString().Trim();
                        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                        {
                            throw content.Error(line, $"<updated> \"{text}\" is not a yyyy-MM-dd date");
                        }

                        updated = date;
                        break;
                    case "record":
                        pending.Add(ReadRecord(reader, lineInfo, warnings));
                        break;
                    case "people":
                        IanaXmlPeople.ReadList(reader, people);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            // Reading on to the end makes a truncated or trailing-garbage file fail here, not pass silently.
            while (reader.Read())
            {
            }
        }
        catch (XmlException e)
        {
            throw new EditionFormatException(content.SourceName, e.LineNumber, null, $"XML is not well-formed: {e.Message}", e);
        }

        if (pending.Count == 0) throw content.Error(lineInfo.LineNumber, "the registry holds no <record> elements");

        var records = pending.Where(p => p.Draft is not null).Select(p => p.Resolve(people, warnings)).ToList();
        return new ParsedEdition(Format, title ?? "Service Name and Transport Protocol Port Number Registry", updated,
            EditionDateSource.Content, "iana-xml", [.. records], [.. warnings]);
    }

    private static PendingXmlRecord ReadRecord(XmlReader reader, IXmlLineInfo lineInfo, List<EditionParseWarning> warnings)
    {
        var line = lineInfo.LineNumber;
        var draft = new RecordDraft { Line = line, Registered = reader.GetAttribute("date"), Modified = reader.GetAttribute("updated") };
        var pending = new PendingXmlRecord(draft);
        var valid = true;
        if (reader.IsEmptyElement)
        {
            reader.Read();
            warnings.Add(new EditionParseWarning(line, "empty <record>"));
            return pending with { Draft = null };
        }

        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType != XmlNodeType.Element)
            {
                reader.Read();
                continue;
            }

            var elementLine = lineInfo.LineNumber;
            switch (reader.LocalName)
            {
                case "name":
                    draft.ServiceName = reader.ReadElementContentAsString();
                    break;
                case "protocol":
                    var protocol = reader.ReadElementContentAsString();
                    if (TransportProtocols.TryParse(protocol, out var transport))
                    {
                        draft.Transport = transport;
                    }
                    else
                    {
                        warnings.Add(new EditionParseWarning(elementLine, $"unknown protocol \"{protocol.Trim()}\"; record skipped"));
                        valid = false;
                    }

                    break;
                case "number":
                    var number = reader.ReadElementContentAsString();
                    if (PortSpan.TryParse(number, out var ports))
                    {
                        draft.Ports = ports;
                    }
                    else
                    {
                        warnings.Add(new EditionParseWarning(elementLine, $"<number> \"{number.Trim()}\" is not a port or range 0-65535; record skipped"));
                        valid = false;
                    }

                    break;
                case "description":
                    draft.Description = IanaXmlText.ReadMixed(reader);
                    break;
                case "note":
                    draft.Notes.Add(IanaXmlText.ReadMixed(reader));
                    break;
                case "unauthorized":
                    draft.UnauthorizedUses.Add(IanaXmlText.ReadMixed(reader));
                    break;
                case "sc":
                    draft.ServiceCode = reader.ReadElementContentAsString();
                    break;
                case "xref":
                    var (type, data) = (reader.GetAttribute("type"), reader.GetAttribute("data"));
                    reader.Skip();
                    if (type == "person")
                    {
                        pending.ContactIds.Add(data ?? "");
                    }
                    else
                    {
                        draft.References.Add(IanaXmlText.Reference(type, data));
                    }

                    break;
                case "assignee":
                    pending.AssigneeIds.AddRange(IanaXmlPeople.ReadRefs(reader));
                    break;
                case "contact":
                    pending.ExplicitContactIds.AddRange(IanaXmlPeople.ReadRefs(reader));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        reader.Read();
        return valid ? pending : pending with { Draft = null };
    }
}
