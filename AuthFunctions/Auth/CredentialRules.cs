using System.Globalization;
using System.Text;

namespace AuthFunctions.Auth;

/// <summary>What makes an email, a password and a name acceptable. Pure functions; messages never echo the input.</summary>
public static class CredentialRules
{
    public const int MinPasswordCharacters = 8;
    public const int MaxEmailLength = 254;
    public const int MaxFullNameLength = 200;

    /// <summary>
    /// Trimmed, NFC-normalized, lower-cased (invariant): the form stored and compared. The local part
    /// may hold any printable character, <c>/ \ # ?</c> included; the domain is a dot-separated host
    /// name (Unicode letters allowed) or an address literal in brackets.
    /// </summary>
    public static bool TryNormalizeEmail(string? input, out string email, out string? error)
    {
        email = "";
        if (string.IsNullOrWhiteSpace(input))
        {
            error = "Email is required.";
            return false;
        }
        string candidate;
        try
        {
            candidate = input.Trim().Normalize(NormalizationForm.FormC).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            error = "Email contains invalid Unicode.";
            return false;
        }
        if (candidate.Length > MaxEmailLength)
        {
            error = $"Email must be at most {MaxEmailLength} characters.";
            return false;
        }
        int at = candidate.LastIndexOf('@');
        if (at <= 0 || at == candidate.Length - 1)
        {
            error = "Email must look like name@example.com.";
            return false;
        }
        string local = candidate[..at];
        string domain = candidate[(at + 1)..];
        if (local.Length > 64 || !IsValidLocalPart(local) || !IsValidDomain(domain))
        {
            error = "Email must look like name@example.com.";
            return false;
        }
        email = candidate;
        error = null;
        return true;
    }

    /// <summary>
    /// NIST SP 800-63B §3.1.1.2: at least 8 characters (code points), no composition rules, all
    /// printable characters allowed. At most 72 UTF-8 bytes because bcrypt ignores the rest (ASVS
    /// 6.2.9 asks for long passwords; silently truncating would be worse than saying so). Length
    /// rules apply to the NFKC form, which is what gets hashed (NIST SP 800-63B §5.1.1.2).
    /// </summary>
    public static string? PasswordProblem(string? password, string field = "password")
    {
        if (string.IsNullOrEmpty(password))
        {
            return $"{Capitalize(field)} is required.";
        }
        if (!password.EnumerateRunes().All(r => r.Value >= 0x20 && !Rune.IsControl(r)) || ContainsLoneSurrogate(password))
        {
            return $"{Capitalize(field)} must not contain control characters.";
        }
        if (!Passwords.PasswordHasher.TryNormalize(password, out var hashed))
        {
            return $"{Capitalize(field)} must be valid Unicode text.";
        }
        if (hashed.EnumerateRunes().Count() < MinPasswordCharacters)
        {
            return $"{Capitalize(field)} must be at least {MinPasswordCharacters} characters.";
        }
        if (Encoding.UTF8.GetByteCount(hashed) > Passwords.PasswordHasher.MaxPasswordBytes)
        {
            return $"{Capitalize(field)} must be at most {Passwords.PasswordHasher.MaxPasswordBytes} bytes in UTF-8 after Unicode normalization (bcrypt reads no further, so longer passwords are refused rather than truncated).";
        }
        return null;
    }

    public static string? FullNameProblem(string? fullName)
    {
        if (fullName is null)
        {
            return null;
        }
        if (fullName.Length > MaxFullNameLength)
        {
            return $"Full name must be at most {MaxFullNameLength} characters.";
        }
        if (fullName.Any(char.IsControl) || ContainsLoneSurrogate(fullName))
        {
            return "Full name must not contain control characters.";
        }
        return null;
    }

    private static bool IsValidLocalPart(string local)
    {
        if (local.Length >= 2 && local[0] == '"' && local[^1] == '"')
        {
            return !local.Any(char.IsControl) && !ContainsLoneSurrogate(local);
        }
        return !local.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '"' or '@' or '<' or '>' or '(' or ')' or ',' or ';' or ':' or '[' or ']')
               && !local.StartsWith('.') && !local.EndsWith('.') && !local.Contains("..", StringComparison.Ordinal)
               && !ContainsLoneSurrogate(local);
    }

    private static bool IsValidDomain(string domain)
    {
        if (domain.Length > 253)
        {
            return false;
        }
        if (domain.StartsWith('[') && domain.EndsWith(']'))
        {
            return System.Net.IPAddress.TryParse(domain[1..^1].Replace("ipv6:", "", StringComparison.Ordinal), out _);
        }
        var labels = domain.Split('.');
        return labels.Length >= 2 && labels.All(label =>
            label.Length is > 0 and <= 63 && !label.StartsWith('-') && !label.EndsWith('-') &&
            label.All(c => c == '-' || char.IsLetterOrDigit(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark));
    }

    private static bool ContainsLoneSurrogate(string value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }
        return false;
    }

    private static string Capitalize(string field) => char.ToUpperInvariant(field[0]) + field[1..].Replace('_', ' ');
}
