using System.Text;

namespace PortHistory.Registry.Model;

/// <summary>
/// An assignee or contact as an edition names it: an XML/CSV person id ("Josyula_R_Rao"), a display name, an
/// e-mail address (the 2008 text edition writes '&amp;' for '@'; it is stored with '@') or an organisation.
/// </summary>
public sealed record RegistryPerson(string? Id, string? Name, string? Email, string? Organization = null)
{
    /// <summary>What to show a reader: the name, else the organisation, else the id, else the address.</summary>
    public string DisplayName =>
        Name ?? Organization ?? (Id is null ? null : Id.Replace('_', ' ')) ?? Email ?? "";

    /// <summary>
    /// Identity used to compare people across editions and formats, so that "Josyula R. Rao &lt;jrrao@…&gt;" (text),
    /// person id "Josyula_R_Rao" (CSV) and the XML people entry all count as the same contact. The id wins when
    /// there is one, because the CSV of an edition knows only ids.
    /// </summary>
    public string Key => Normalize((Id is null ? null : Id.Replace('_', ' ')) ?? Name ?? Organization ?? Email ?? "");

    public override string ToString() => Email is null ? DisplayName : $"{DisplayName} <{Email}>";

    internal static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c)) builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }
}
