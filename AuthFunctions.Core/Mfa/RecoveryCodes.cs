using System.Security.Cryptography;
using System.Text;

namespace AuthFunctions.Mfa;

/// <summary>
/// Recovery codes (NIST SP 800-63B §5.1.2 look-up secrets, ASVS 5.0 V6.6): ten per set, each 12 characters from a
/// 30-symbol alphabet without look-alikes (<see cref="Symbols"/>), so 58.9 random bits (ASVS asks at least 20; we aim
/// past 50), shown as three groups of four.
/// Only a salted SHA-256 of each is stored; checks are throttled with the TOTP codes, so the hash need not be slow.
/// </summary>
public static class RecoveryCodes
{
    public const int Count = 10;
    public const int Length = 12;

    /// <summary>A new set: the codes to show once, and what is stored (the salt and the hashes).</summary>
    public static (IReadOnlyList<string> Codes, string Salt, IReadOnlyList<string> Hashes) NewSet()
    {
        string salt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var codes = new List<string>(Count);
        for (int i = 0; i < Count; i++)
        {
            var chars = new char[Length];
            for (int c = 0; c < Length; c++)
            {
                chars[c] = Symbols[RandomNumberGenerator.GetInt32(Symbols.Length)];
            }
            var code = new string(chars);
            codes.Add($"{code[..4]}-{code[4..8]}-{code[8..]}");
        }
        return (codes, salt, [.. codes.Select(code => Hash(salt, Normalize(code)!))]);
    }

    /// <summary>The 30 symbols: upper-case letters and digits without the ones read or typed as others (0 O, 1 I L, U).</summary>
    public const string Symbols = "ABCDEFGHJKMNPQRSTVWXYZ23456789";

    /// <summary>The code without its dashes, upper-cased; null when it is not shaped like one of ours.</summary>
    public static string? Normalize(string? code)
    {
        if (code is null || code.Length > 2 * Length)
        {
            return null;
        }
        string compact = code.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        return compact.Length == Length && compact.All(c => char.IsAscii(c) && SymbolSet.Contains(c)) ? compact : null;
    }

    public static string Hash(string salt, string normalizedCode) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("recovery-code\n" + salt + "\n" + normalizedCode)));

    /// <summary>The index of the hash that <paramref name="normalizedCode"/> matches (compared in fixed time), or -1.</summary>
    public static int Find(string salt, IReadOnlyList<string> hashes, string normalizedCode)
    {
        byte[] presented = Encoding.ASCII.GetBytes(Hash(salt, normalizedCode));
        int found = -1;
        for (int i = 0; i < hashes.Count; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, Encoding.ASCII.GetBytes(hashes[i])))
            {
                found = i;
            }
        }
        return found;
    }

    private static readonly HashSet<char> SymbolSet = [.. Symbols];
}
