using System.Text;

namespace PortHistory.Server.Application.Watch;

/// <summary>The webhook's shared secret: the trimmed text of its file, at least <see cref="MinimumBytes"/> bytes.</summary>
public static class WebhookSecret
{
    /// <summary>As long as the HMAC-SHA256 key should be (a shorter one can be guessed offline from a signed body).</summary>
    public const int MinimumBytes = 32;

    public static byte[] Read(string file) => Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim());

    /// <summary>Why the file cannot serve as the secret, or null when it can.</summary>
    public static string? Problem(string? file)
    {
        if (string.IsNullOrWhiteSpace(file) || !File.Exists(file)) return "must name a readable file when Url is set";
        try
        {
            var length = Read(file).Length;
            return length >= MinimumBytes ? null : $"holds {length} bytes; the secret must be at least {MinimumBytes} (e.g. openssl rand -hex 32)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read: {e.Message}";
        }
    }
}
