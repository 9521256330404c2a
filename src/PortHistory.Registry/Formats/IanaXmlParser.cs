using System.Globalization;
using System.Text;
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
        var pending = new List<PendingRecord>();
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
                        ReadPeople(reader, people);
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

    private static PendingRecord ReadRecord(XmlReader reader, IXmlLineInfo lineInfo, List<EditionParseWarning> warnings)
    {
        var line = lineInfo.LineNumber;
        var draft = new RecordDraft { Line = line, Registered = reader.GetAttribute("date"), Modified = reader.GetAttribute("updated") };
        var pending = new PendingRecord(draft);
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
                    draft.Description = ReadMixedText(reader);
                    break;
                case "note":
                    draft.Notes.Add(ReadMixedText(reader));
                    break;
                case "unauthorized":
                    draft.UnauthorizedUses.Add(ReadMixedText(reader));
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
                        draft.References.Add(Reference(type, data));
                    }

                    break;
                case "assignee":
                    pending.AssigneeIds.AddRange(ReadPersonRefs(reader));
                    break;
                case "contact":
                    pending.ExplicitContactIds.AddRange(ReadPersonRefs(reader));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        reader.Read();
        return valid ? pending : pending with { Draft = null };
    }

    private static List<string> ReadPersonRefs(XmlReader reader)
    {
        var ids = new List<string>();
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return ids;
        }

        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "xref")
            {
                var data = reader.GetAttribute("data");
                if (!string.IsNullOrEmpty(data)) ids.Add(data);
                reader.Skip();
            }
            else
            {
                reader.Read();
            }
        }

        reader.Read();
        return ids;
    }

    /// <summary>Text of an element that mixes text, &lt;br/&gt; and inline &lt;xref&gt;s.</summary>
    private static string ReadMixedText(XmlReader reader)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return "";
        }

        var builder = new StringBuilder();
        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    builder.Append(reader.Value);
                    reader.Read();
                    break;
                case XmlNodeType.Element when reader.LocalName == "xref":
                    builder.Append('[').Append(Reference(reader.GetAttribute("type"), reader.GetAttribute("data"))).Append(']');
                    reader.Skip();
                    break;
                case XmlNodeType.Element when reader.LocalName == "br":
                    builder.Append('\n');
                    reader.Skip();
                    break;
                case XmlNodeType.Element:
                    builder.Append(reader.ReadInnerXml());
                    break;
                default:
                    reader.Read();
                    break;
            }
        }

        reader.Read();
        return builder.ToString();
    }

    private static string Reference(string? type, string? data) => type switch
    {
        "rfc" => (data ?? "").ToUpperInvariant(),
        null or "person" or "uri" or "draft" or "text" => data ?? "",
        _ => data ?? "",
    };

    private static void ReadPeople(XmlReader reader, Dictionary<string, RegistryPerson> people)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return;
        }

        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "person" || reader.IsEmptyElement)
            {
                reader.Read();
                continue;
            }

            var id = reader.GetAttribute("id") ?? "";
            string? name = null, organization = null, email = null;
            var personDepth = reader.Depth;
            reader.Read();
            while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == personDepth))
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    reader.Read();
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "name": name = TextLines.CollapseWhitespace(reader.ReadElementContentAsString()); break;
                    case "org": organization = TextLines.CollapseWhitespace(reader.ReadElementContentAsString()); break;
                    case "uri":
                        var uri = reader.ReadElementContentAsString();
                        if (uri.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)) email ??= PersonText.Email(uri);
                        break;
                    default: reader.Skip(); break;
                }
            }

            reader.Read();
            people.TryAdd(id, new RegistryPerson(id, name, email, organization));
        }

        reader.Read();
    }

    /// <summary>A record whose person references wait for the &lt;people&gt; list at the end of the file.</summary>
    private sealed record PendingRecord(RecordDraft? Draft)
    {
        public List<string> ContactIds { get; } = [];
        public List<string> AssigneeIds { get; } = [];
        public List<string> ExplicitContactIds { get; } = [];

        public EditionRecord Resolve(Dictionary<string, RegistryPerson> people, List<EditionParseWarning> warnings)
        {
            var draft = Draft!;
            // A record-level person xref is the registrant of old: IANA's CSV shows it as both assignee and contact.
            var contacts = ExplicitContactIds.Count > 0 ? ExplicitContactIds.Concat(ContactIds) : ContactIds;
            var assignees = AssigneeIds.Count > 0 ? AssigneeIds : ContactIds;
            draft.Contacts.AddRange(contacts.Distinct().Select(id => Lookup(id, draft.Line, people, warnings)));
            draft.Assignees.AddRange(assignees.Distinct().Select(id => Lookup(id, draft.Line, people, warnings)));
            return draft.ToRecord();
        }

        private static RegistryPerson Lookup(string id, int line, Dictionary<string, RegistryPerson> people, List<EditionParseWarning> warnings)
        {
            if (people.TryGetValue(id, out var person)) return person;
            warnings.Add(new EditionParseWarning(line, $"person \"{id}\" is not in <people>"));
            return new RegistryPerson(id, null, null);
        }
    }
}
