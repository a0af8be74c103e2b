using System.Globalization;
using System.Text;

namespace AuthFunctions.Accounts;

/// <summary>What makes an email, a password and a name acceptable. Pure functions; messages never echo the input.</summary>
public static class CredentialRules
{
    public const int MaxEmailLength = 254;
    public const int MaxFullNameLength = 200;

    /// <summary>
    /// Trimmed, NFKC-normalized and lower-cased (invariant): the form stored and compared, so that
    /// compatibility variants that look alike (fullwidth letters, mathematical alphanumerics, the
    /// Kelvin sign, ligatures) are one address (UTS #39 §5 skeletons start from NFKC). Invisible code
    /// points (Default_Ignorable_Code_Point: zero-width spaces and joiners, bidi controls, variation
    /// selectors, tags, fillers), other format characters and unassigned code points (whose
    /// normalization a later Unicode version may change) are refused, not stripped: an address that
    /// renders like another must not become a second account, nor silently someone else's. The local
    /// part may hold any other printable character, <c>/ \ # ?</c> included; the domain is a
    /// dot-separated host name (Unicode letters allowed) or an address literal in brackets.
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
            candidate = input.Trim();
            if (HasInvisible(candidate, refuseUnassigned: true))
            {
                error = "Email must not contain invisible, formatting or text-direction characters.";
                return false;
            }
            candidate = candidate.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
            if (!candidate.IsNormalized(NormalizationForm.FormKC))
            {
                candidate = candidate.Normalize(NormalizationForm.FormKC);
            }
        }
        catch (ArgumentException)
        {
            error = "Email contains invalid Unicode.";
            return false;
        }
        // NFKC maps a few fillers onto other invisible ones (U+3164 and U+FFA0 onto U+1160).
        if (HasInvisible(candidate, refuseUnassigned: true))
        {
            error = "Email must not contain invisible, formatting or text-direction characters.";
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
    /// That a new password is there and is text: all printable characters allowed (NIST SP 800-63B §3.1.1.2). Its
    /// length and strength are <see cref="Passwords.NewPasswordPolicy"/>'s to judge.
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
        return Passwords.PasswordHasher.TryNormalize(password, out _) ? null : $"{Capitalize(field)} must be valid Unicode text.";
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
        // A name is shown to people: invisible code points and bidi controls (which reorder the text
        // after them, CVE-2021-42574 "Trojan Source") let one name pass for another.
        if (HasInvisible(fullName, refuseUnassigned: false))
        {
            return "Full name must not contain invisible, formatting or text-direction characters.";
        }
        return null;
    }

    /// <summary>
    /// Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), which includes every bidi
    /// control (U+061C, U+200E-200F, U+202A-202E, U+2066-2069); any other format character (Cf, e.g.
    /// U+FFF9-FFFB); and, for emails, unassigned code points.
    /// </summary>
    private static bool HasInvisible(string value, bool refuseUnassigned)
    {
        foreach (var rune in value.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (IsDefaultIgnorable(rune.Value) || category == UnicodeCategory.Format ||
                (refuseUnassigned && category == UnicodeCategory.OtherNotAssigned))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsDefaultIgnorable(int c) => c switch
    {
        0x00AD or 0x034F or 0x061C or 0x3164 or 0xFEFF or 0xFFA0 => true,
        >= 0x115F and <= 0x1160 => true,
        >= 0x17B4 and <= 0x17B5 => true,
        >= 0x180B and <= 0x180F => true,
        >= 0x200B and <= 0x200F => true,
        >= 0x202A and <= 0x202E => true,
        >= 0x2060 and <= 0x206F => true,
        >= 0xFE00 and <= 0xFE0F => true,
        >= 0xFFF0 and <= 0xFFF8 => true,
        >= 0x1BCA0 and <= 0x1BCA3 => true,
        >= 0x1D173 and <= 0x1D17A => true,
        >= 0xE0000 and <= 0xE0FFF => true,
        _ => false,
    };

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
