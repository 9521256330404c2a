using System.Text.Json;
using System.Text.Json.Serialization;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Output;

/// <summary>The --json shape: camelCase, enums as kebab-case words, ranges as {first, last}, nulls left out.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new EditionFormatConverter(), new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower), new PortRangeConverter() },
    };

    /// <summary>One value per line, for streamed arrays.</summary>
    public static readonly JsonSerializerOptions CompactOptions = new(Options) { WriteIndented = false };

    public static void Write<T>(TextWriter output, T value) => output.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>Formats as the CLI names them ("rfc", "iana-text", …), not as C# spells the enum.</summary>
    private sealed class EditionFormatConverter : JsonConverter<EditionFileFormat>
    {
        public override EditionFileFormat Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            EditionFileFormats.TryParse(reader.GetString(), out var format) ? format : throw new JsonException($"unknown edition format {reader.GetString()}");

        public override void Write(Utf8JsonWriter writer, EditionFileFormat value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToText());
    }

    private sealed class PortRangeConverter : JsonConverter<PortSpan>
    {
        public override PortSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = JsonElement.ParseValue(ref reader);
            return new PortSpan(element.GetProperty("first").GetInt32(), element.GetProperty("last").GetInt32());
        }

        public override void Write(Utf8JsonWriter writer, PortSpan value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteNumber("first", value.First);
            writer.WriteNumber("last", value.Last);
            writer.WriteEndObject();
        }
    }
}
