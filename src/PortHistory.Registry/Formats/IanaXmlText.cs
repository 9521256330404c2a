using System.Text;
using System.Xml;

namespace PortHistory.Registry.Formats;

/// <summary>
/// Text of IANA XML elements as IANA's CSV renders it: inline &lt;xref&gt;s as "[RFC4146]" / "[Bernie_Volz]", &lt;br/&gt;
/// as a line break.
/// </summary>
internal static class IanaXmlText
{
    /// <summary>Text of an element that mixes text, &lt;br/&gt; and inline &lt;xref&gt;s.</summary>
    public static string ReadMixed(XmlReader reader)
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

    /// <summary>How a reference reads in text: RFC numbers upper-cased, anything else as given.</summary>
    public static string Reference(string? type, string? data) => type switch
    {
        "rfc" => (data ?? "").ToUpperInvariant(),
        null or "person" or "uri" or "draft" or "text" => data ?? "",
        _ => data ?? "",
    };
}
