using System.Globalization;
using System.Text;

namespace AuthFunctions.Storage;

/// <summary>
/// Encodes arbitrary strings (emails, ids) into PartitionKey/RowKey values. Table keys may not
/// contain <c>/ \ # ?</c> or control characters; single quotes would need doubling in every URL
/// and filter. Each such character, <c>%</c> itself and any unpaired surrogate becomes
/// <c>%XXXX</c> (its UTF-16 code unit in hex), so every string round-trips exactly and readable
/// keys stay readable.
/// </summary>
public static class TableKey
{
    private const char Escape = '%';

    public static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int firstEscape = IndexOfCharacterToEscape(value, 0);
        if (firstEscape < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 16);
        builder.Append(value, 0, firstEscape);
        for (int i = firstEscape; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[i + 1]);
                i++;
            }
            else if (MustEscape(c))
            {
                builder.Append(Escape).Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    public static string Decode(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int first = key.IndexOf(Escape, StringComparison.Ordinal);
        if (first < 0)
        {
            return key;
        }

        var builder = new StringBuilder(key.Length);
        builder.Append(key, 0, first);
        for (int i = first; i < key.Length; i++)
        {
            if (key[i] == Escape)
            {
                if (i + 4 >= key.Length)
                {
                    throw new FormatException("Truncated escape in table key.");
                }
                builder.Append((char)int.Parse(key.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                i += 4;
            }
            else
            {
                builder.Append(key[i]);
            }
        }
        return builder.ToString();
    }

    private static int IndexOfCharacterToEscape(string value, int start)
    {
        for (int i = start; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (MustEscape(c))
            {
                return i;
            }
        }
        return -1;
    }

    // Forbidden by the Table service: / \ # ? and control characters (U+0000–U+001F, U+007F–U+009F).
    // https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model
    private static bool MustEscape(char c) =>
        c is '/' or '\\' or '#' or '?' or '\'' or Escape || char.IsControl(c) || char.IsSurrogate(c);
}
