using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace AuthFunctions.Passwords;

/// <summary>
/// bcrypt as OpenBSD defines it (Provos &amp; Mazières, "A Future-Adaptable Password Scheme", 1999;
/// OpenBSD lib/libc/crypt/bcrypt.c): EksBlowfish setup with 2^cost rounds, then 64 encryptions of
/// "OrpheanBeholderScryDoubt". Written here because BCrypt.Net-Next is not in our package feed.
/// Produces <c>$2b$</c>; verifies <c>$2a$</c>, <c>$2b$</c> and <c>$2y$</c>, which are the same
/// algorithm for every key this service accepts (they differ only in bugs of old implementations
/// for keys of 255 bytes or more, or 8-bit characters in the long-retired <c>$2x$</c>).
/// The key is the password's bytes plus a NUL, cycled to fill 72 bytes: bytes past the 72nd never
/// count, which is why the API refuses longer passwords instead of letting them be truncated.
/// </summary>
public static class Bcrypt
{
    public const int MinCost = 4;
    public const int MaxCost = 31;
    public const int SaltBytes = 16;
    public const int MaxKeyBytes = 72;

    private const int PWords = 18;
    private const int StateWords = PWords + 4 * 256;
    private const int HashBytes = 23;
    private const int EncodedSaltLength = 22;
    private const int EncodedHashLength = 31;
    private const int HashStringLength = 7 + EncodedSaltLength + EncodedHashLength;

    // Big-endian words of "OrpheanBeholderScryDoubt".
    private static ReadOnlySpan<uint> MagicWords => [0x4F727068, 0x65616E42, 0x65686F6C, 0x64657253, 0x63727944, 0x6F756274];

    private const string Alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Hashes with a fresh 16-byte salt from the operating system's CSPRNG.</summary>
    public static string HashPassword(string password, int cost)
    {
        ArgumentNullException.ThrowIfNull(password);
        Span<byte> salt = stackalloc byte[SaltBytes];
        RandomNumberGenerator.Fill(salt);
        return HashPassword(Encoding.UTF8.GetBytes(password), salt, cost, 'b');
    }

    /// <summary>The full <c>$2?$cc$salt+hash</c> string for these exact inputs.</summary>
    public static string HashPassword(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int cost, char minor = 'b')
    {
        if (cost is < MinCost or > MaxCost)
        {
            throw new ArgumentOutOfRangeException(nameof(cost), cost, $"bcrypt cost must be between {MinCost} and {MaxCost}.");
        }
        if (salt.Length != SaltBytes)
        {
            throw new ArgumentException($"bcrypt salt must be {SaltBytes} bytes.", nameof(salt));
        }
        if (minor is not ('a' or 'b' or 'y'))
        {
            throw new ArgumentOutOfRangeException(nameof(minor), minor, "bcrypt version must be 2a, 2b or 2y.");
        }

        Span<byte> hash = stackalloc byte[HashBytes + 1];
        ComputeHash(password, salt, cost, hash);

        Span<char> text = stackalloc char[HashStringLength];
        text[0] = '$';
        text[1] = '2';
        text[2] = minor;
        text[3] = '$';
        text[4] = (char)('0' + cost / 10);
        text[5] = (char)('0' + cost % 10);
        text[6] = '$';
        Encode(salt, text.Slice(7, EncodedSaltLength));
        Encode(hash[..HashBytes], text.Slice(7 + EncodedSaltLength, EncodedHashLength));
        CryptographicOperations.ZeroMemory(hash);
        return new string(text);
    }

    /// <summary>
    /// Whether <paramref name="password"/> matches <paramref name="hash"/>, comparing in constant time.
    /// A malformed hash is a non-match; <see cref="TryParse"/> tells why.
    /// </summary>
    public static bool Verify(string password, string hash)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(hash, out var parsed, out _))
        {
            return false;
        }
        Span<byte> salt = stackalloc byte[SaltBytes];
        Decode(hash.AsSpan(7, EncodedSaltLength), salt);
        string candidate = HashPassword(Encoding.UTF8.GetBytes(password), salt, parsed.Cost, parsed.Minor);
        return CryptographicOperations.FixedTimeEquals(
            MemoryMarshalBytes(candidate.AsSpan(7 + EncodedSaltLength)), MemoryMarshalBytes(hash.AsSpan(7 + EncodedSaltLength)));
    }

    /// <summary>Checks the shape of a stored hash: version, two-digit cost in range, 53 characters of bcrypt base64 (with canonical padding bits).</summary>
    public static bool TryParse(string? hash, out BcryptHashInfo info, out string? reason)
    {
        info = default;
        if (hash is null || hash.Length != HashStringLength)
        {
            reason = $"length is {hash?.Length ?? 0}, not {HashStringLength}";
            return false;
        }
        if (hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$')
        {
            reason = "not in $2?$cc$ form";
            return false;
        }
        if (hash[2] is not ('a' or 'b' or 'y'))
        {
            reason = $"unsupported version $2{hash[2]}$";
            return false;
        }
        if (!char.IsAsciiDigit(hash[4]) || !char.IsAsciiDigit(hash[5]))
        {
            reason = "cost is not two digits";
            return false;
        }
        int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
        if (cost is < MinCost or > MaxCost)
        {
            reason = $"cost {cost} is outside {MinCost}–{MaxCost}";
            return false;
        }
        foreach (char c in hash.AsSpan(7))
        {
            if (Alphabet.IndexOf(c, StringComparison.Ordinal) < 0)
            {
                reason = "character outside the bcrypt base64 alphabet";
                return false;
            }
        }
        info = new BcryptHashInfo(hash[2], cost);
        reason = null;
        return true;
    }

    private static ReadOnlySpan<byte> MemoryMarshalBytes(ReadOnlySpan<char> chars) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(chars);

    // Fully optimized on first call: this loop runs once per login, too rarely for tiering to pick
    // it up, and ReadyToRun code for it is measurably slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ComputeHash(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int cost, Span<byte> output)
    {
        // The key stream is the password plus its NUL terminator, repeated; each expansion reads the
        // first 72 bytes of it (18 words), so those 18 words are all the key there is.
        Span<uint> key = stackalloc uint[PWords];
        FillKeyWords(password, key);
        Span<uint> saltWords = stackalloc uint[4];
        for (int i = 0; i < 4; i++)
        {
            saltWords[i] = BinaryPrimitives.ReadUInt32BigEndian(salt[(i * 4)..]);
        }

        uint* state = stackalloc uint[StateWords];
        BlowfishInitialState.Words.CopyTo(new Span<uint>(state, StateWords));

        ExpandStateWithSalt(state, key, saltWords);
        long rounds = 1L << cost;
        Span<uint> saltKey = stackalloc uint[PWords];
        for (int i = 0; i < PWords; i++)
        {
            saltKey[i] = saltWords[i & 3];
        }
        fixed (uint* keyWords = key)
        fixed (uint* saltKeyWords = saltKey)
        {
            for (long round = 0; round < rounds; round++)
            {
                ExpandState(state, keyWords);
                ExpandState(state, saltKeyWords);
            }
        }

        Span<uint> text = stackalloc uint[6];
        MagicWords.CopyTo(text);
        for (int i = 0; i < 64; i++)
        {
            for (int block = 0; block < 6; block += 2)
            {
                uint left = text[block];
                uint right = text[block + 1];
                Encipher(state, ref left, ref right);
                text[block] = left;
                text[block + 1] = right;
            }
        }
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(output[(i * 4)..], text[i]);
        }
        new Span<uint>(state, StateWords).Clear();
        key.Clear();
    }

    private static void FillKeyWords(ReadOnlySpan<byte> password, Span<uint> key)
    {
        // OpenBSD ($2b$): key_len = min(strlen, 72) + 1, cycled.
        int cycle = Math.Min(password.Length, MaxKeyBytes) + 1;
        int position = 0;
        for (int i = 0; i < PWords; i++)
        {
            uint word = 0;
            for (int b = 0; b < 4; b++)
            {
                byte value = position < password.Length ? password[position] : (byte)0;
                word = (word << 8) | value;
                position++;
                if (position == cycle)
                {
                    position = 0;
                }
            }
            key[i] = word;
        }
    }

    private static unsafe void ExpandStateWithSalt(uint* state, ReadOnlySpan<uint> key, ReadOnlySpan<uint> salt)
    {
        for (int i = 0; i < PWords; i++)
        {
            state[i] ^= key[i];
        }
        uint left = 0;
        uint right = 0;
        int s = 0;
        for (int i = 0; i < StateWords; i += 2)
        {
            left ^= salt[s];
            right ^= salt[s + 1];
            s ^= 2;
            Encipher(state, ref left, ref right);
            state[i] = left;
            state[i + 1] = right;
        }
    }

    // The hot loop: 2^(cost+1) calls, each 521 encryptions.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ExpandState(uint* state, uint* key)
    {
        for (int i = 0; i < PWords; i++)
        {
            state[i] ^= key[i];
        }
        uint left = 0;
        uint right = 0;
        for (int i = 0; i < StateWords; i += 2)
        {
            Encipher(state, ref left, ref right);
            state[i] = left;
            state[i + 1] = right;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe uint F(uint* s, uint x) =>
        ((s[x >> 24] + s[256 + ((x >> 16) & 0xFF)]) ^ s[512 + ((x >> 8) & 0xFF)]) + s[768 + (x & 0xFF)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Encipher(uint* p, ref uint left, ref uint right)
    {
        uint* s = p + PWords;
        uint l = left ^ p[0];
        uint r = right;
        r ^= F(s, l) ^ p[1];
        l ^= F(s, r) ^ p[2];
        r ^= F(s, l) ^ p[3];
        l ^= F(s, r) ^ p[4];
        r ^= F(s, l) ^ p[5];
        l ^= F(s, r) ^ p[6];
        r ^= F(s, l) ^ p[7];
        l ^= F(s, r) ^ p[8];
        r ^= F(s, l) ^ p[9];
        l ^= F(s, r) ^ p[10];
        r ^= F(s, l) ^ p[11];
        l ^= F(s, r) ^ p[12];
        r ^= F(s, l) ^ p[13];
        l ^= F(s, r) ^ p[14];
        r ^= F(s, l) ^ p[15];
        l ^= F(s, r) ^ p[16];
        left = r ^ p[17];
        right = l;
    }

    /// <summary>bcrypt's base64: its own alphabet, no padding.</summary>
    internal static void Encode(ReadOnlySpan<byte> data, Span<char> output)
    {
        int o = 0;
        int i = 0;
        while (i < data.Length)
        {
            int c1 = data[i++];
            output[o++] = Alphabet[c1 >> 2];
            c1 = (c1 & 0x03) << 4;
            if (i >= data.Length)
            {
                output[o++] = Alphabet[c1];
                break;
            }
            int c2 = data[i++];
            output[o++] = Alphabet[c1 | (c2 >> 4)];
            c1 = (c2 & 0x0F) << 2;
            if (i >= data.Length)
            {
                output[o++] = Alphabet[c1];
                break;
            }
            c2 = data[i++];
            output[o++] = Alphabet[c1 | (c2 >> 6)];
            output[o++] = Alphabet[c2 & 0x3F];
        }
    }

    /// <summary>Decodes as OpenBSD does: bits beyond the output length are ignored.</summary>
    internal static void Decode(ReadOnlySpan<char> text, Span<byte> output)
    {
        int o = 0;
        int i = 0;
        while (o < output.Length)
        {
            int c1 = Alphabet.IndexOf(text[i++], StringComparison.Ordinal);
            int c2 = Alphabet.IndexOf(text[i++], StringComparison.Ordinal);
            output[o++] = (byte)((c1 << 2) | ((c2 & 0x30) >> 4));
            if (o >= output.Length)
            {
                break;
            }
            int c3 = Alphabet.IndexOf(text[i++], StringComparison.Ordinal);
            output[o++] = (byte)(((c2 & 0x0F) << 4) | ((c3 & 0x3C) >> 2));
            if (o >= output.Length)
            {
                break;
            }
            int c4 = Alphabet.IndexOf(text[i++], StringComparison.Ordinal);
            output[o++] = (byte)(((c3 & 0x03) << 6) | c4);
        }
    }
}

/// <summary>What a stored hash says about itself.</summary>
public readonly record struct BcryptHashInfo(char Minor, int Cost);
