using System.Globalization;
using Azure.Data.Tables;

namespace AuthFunctions.Storage;

public static class TableColumns
{
    /// <summary>
    /// A time column. Typed (Edm.DateTime) as the SDK writes it; rows written by the app's earlier
    /// hand-written client hold ISO 8601 strings, which still read.
    /// </summary>
    public static DateTimeOffset? GetTime(this TableEntity row, string column)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.TryGetValue(column, out var value) ? value switch
        {
            DateTimeOffset time => time,
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            string text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,
            _ => null,
        } : null;
    }
}
