using System.Xml;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>The people of an IANA XML edition: the &lt;people&gt; list at the end, and the person references of records.</summary>
internal static class IanaXmlPeople
{
    /// <summary>The ids of the &lt;xref&gt;s inside an &lt;assignee&gt; or &lt;contact&gt; element.</summary>
    public static List<string> ReadRefs(XmlReader reader)
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

    /// <summary>Reads &lt;people&gt;: each &lt;person&gt; by id, with name, organisation and mailto address.</summary>
    public static void ReadList(XmlReader reader, Dictionary<string, RegistryPerson> people)
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
}

/// <summary>A record whose person references wait for the &lt;people&gt; list at the end of the file.</summary>
internal sealed record PendingXmlRecord(RecordDraft? Draft)
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
