using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;

namespace AuthFunctions.Backup;

/// <summary>
/// One table entity as one line of JSON, every property with its Table service (EDM) type, so a restore writes back
/// the same types the app wrote: <c>{"PartitionKey":…,"RowKey":…,"Properties":{"Name":{"Type":"Int64","Value":"42"}}}</c>.
/// 64-bit integers, doubles, dates and GUIDs travel as strings in invariant round-trip formats, binary as base64.
/// <c>Timestamp</c> and the ETag belong to the service and are left out.
/// </summary>
public static class EntityJson
{
    private static readonly HashSet<string> ServiceProperties = new(StringComparer.Ordinal)
    {
        "PartitionKey", "RowKey", "Timestamp", "odata.etag",
    };

    public static void Write(Utf8JsonWriter writer, TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(entity);
        writer.WriteStartObject();
        writer.WriteString("PartitionKey", entity.PartitionKey);
        writer.WriteString("RowKey", entity.RowKey);
        writer.WriteStartObject("Properties");
        foreach (var (name, value) in entity.Where(p => !ServiceProperties.Contains(p.Key) && p.Value is not null).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            writer.WriteStartObject(name);
            switch (value)
            {
                case string text:
                    Typed(writer, "String").WriteString("Value", text);
                    break;
                case bool flag:
                    Typed(writer, "Boolean").WriteBoolean("Value", flag);
                    break;
                case int number:
                    Typed(writer, "Int32").WriteNumber("Value", number);
                    break;
                case long number:
                    Typed(writer, "Int64").WriteString("Value", number.ToString(CultureInfo.InvariantCulture));
                    break;
                case double number:
                    Typed(writer, "Double").WriteString("Value", number.ToString("R", CultureInfo.InvariantCulture));
                    break;
                case DateTimeOffset time:
                    Typed(writer, "DateTime").WriteString("Value", time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
                    break;
                case DateTime time:
                    Typed(writer, "DateTime").WriteString("Value", time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                    break;
                case Guid id:
                    Typed(writer, "Guid").WriteString("Value", id.ToString("D"));
                    break;
                case byte[] bytes:
                    Typed(writer, "Binary").WriteBase64String("Value", bytes);
                    break;
                case BinaryData data:
                    Typed(writer, "Binary").WriteBase64String("Value", data.ToArray());
                    break;
                default:
                    throw new NotSupportedException($"Property {name} has a type the Table service does not store: {value.GetType().Name}.");
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static TableEntity Read(JsonElement line)
    {
        var entity = new TableEntity(line.GetProperty("PartitionKey").GetString(), line.GetProperty("RowKey").GetString());
        foreach (var property in line.GetProperty("Properties").EnumerateObject())
        {
            var value = property.Value.GetProperty("Value");
            entity[property.Name] = property.Value.GetProperty("Type").GetString() switch
            {
                "String" => value.GetString(),
                "Boolean" => value.GetBoolean(),
                "Int32" => value.GetInt32(),
                "Int64" => long.Parse(value.GetString()!, NumberStyles.Integer, CultureInfo.InvariantCulture),
                "Double" => double.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture),
                "DateTime" => DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                "Guid" => Guid.Parse(value.GetString()!),
                "Binary" => value.GetBytesFromBase64(),
                var type => throw new FormatException($"Property {property.Name} has an unknown type {type}."),
            };
        }
        return entity;
    }

    private static Utf8JsonWriter Typed(Utf8JsonWriter writer, string type)
    {
        writer.WriteString("Type", type);
        return writer;
    }
}
