using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Auth;
using AuthFunctions.Passwords;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Unit;

public sealed class PasswordHasherTests
{
    public static TheoryData<string, string, string> Vectors(string file, Func<byte[], bool> keep)
    {
        var data = new TheoryData<string, string, string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", file)))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }
            var columns = line.Split('\t');
            if (keep(Convert.FromHexString(columns[0])))
            {
                data.Add(columns[0], columns[1], columns[2]);
            }
        }
        return data;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static bool IsUtf8Text(byte[] bytes)
    {
        try
        {
            StrictUtf8.GetString(bytes);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static TheoryData<string, string, string> PublishedVectors => Vectors("bcrypt-published.tsv", b => IsUtf8Text(b) && b.Length <= 72);

    public static TheoryData<string, string, string> IndependentVectors => Vectors("bcrypt-python3-bcrypt.tsv", b => IsUtf8Text(b) && b.Length <= 72);

    public static TheoryData<string, string, string> VectorsOverSeventyTwoBytes
    {
        get
        {
            var data = Vectors("bcrypt-published.tsv", b => IsUtf8Text(b) && b.Length > 72);
            foreach (var row in Vectors("bcrypt-python3-bcrypt.tsv", b => IsUtf8Text(b) && b.Length > 72))
            {
                data.Add((string)row[0], (string)row[1], (string)row[2]);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PublishedVectors))]
    [MemberData(nameof(IndependentVectors))]
    public async Task VectorVerifiesAndAnyOtherPasswordFails(string passwordHex, string hash, string note)
    {
        using var fixture = new HasherFixture(cost: 4);
        string password = Encoding.UTF8.GetString(Convert.FromHexString(passwordHex));
        int cost = int.Parse(hash.AsSpan(4, 2), provider: System.Globalization.CultureInfo.InvariantCulture);

        // Made without normalization (as Flask-Bcrypt and OpenBSD make them): the password as typed verifies, then is
        // rehashed, unless its NFKC form is over 72 bytes (random #8), which no new hash could be made of.
        bool nfkcFits = PasswordHasher.TryNormalize(password, out var nfkc) && Encoding.UTF8.GetByteCount(nfkc) <= 72;
        AssertCheck(nfkcFits ? PasswordCheck.SucceededRehashNeeded : PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync(password, hash, storedNormalized: false), note);
        fixture.AssertOneVerification(cost);
        if (password.IsNormalized(NormalizationForm.FormKC))
        {
            AssertCheck(PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync(password, hash, storedNormalized: true), note);
            fixture.AssertOneVerification(cost);
        }
        // Another first character, the rest and the length in bytes no greater: a different key.
        string rest = password.Length == 0 ? "" : password[Rune.GetRuneAt(password, 0).Utf16SequenceLength..];
        string other = (password.StartsWith('Z') ? "Y" : "Z") + rest;
        AssertCheck(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync(other, hash, storedNormalized: false), note);
        fixture.AssertOneVerification(cost);
    }

    private static void AssertCheck(PasswordCheck expected, PasswordCheck actual, string because) =>
        Assert.True(expected == actual, $"{because}: expected {expected}, got {actual}");

    [Fact]
    public void OnlyTheOpenwallEightBitVectorsHaveNoUtf8FormAndSoCannotReachTheHasher()
    {
        // Their passwords are single bytes such as 0xA3, which no .NET string (so no request) encodes to; every other
        // vector runs through PasswordHasher above or below.
        var skipped = Vectors("bcrypt-published.tsv", b => !IsUtf8Text(b)).Select(row => (string)row[2]).ToArray();
        Assert.Equal(4, skipped.Length);
        Assert.All(skipped, note => Assert.StartsWith("Openwall: ", note, StringComparison.Ordinal));
        Assert.Empty(Vectors("bcrypt-python3-bcrypt.tsv", b => !IsUtf8Text(b)));
    }

    [Theory]
    [MemberData(nameof(VectorsOverSeventyTwoBytes))]
    public async Task PasswordOverSeventyTwoBytesIsRefusedNotTruncated(string passwordHex, string hash, string note)
    {
        using var fixture = new HasherFixture(cost: 4);
        byte[] bytes = Convert.FromHexString(passwordHex);
        string password = Encoding.UTF8.GetString(bytes);
        int cost = int.Parse(hash.AsSpan(4, 2), provider: System.Globalization.CultureInfo.InvariantCulture);

        // bcrypt itself would accept it: the hash is that of its first 72 bytes...
        Assert.True(BCrypt.Net.BCrypt.Verify(password, hash), note);
        // ...but the hasher refuses it, after the same one verification a wrong password costs.
        AssertCheck(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync(password, hash, storedNormalized: false), note);
        fixture.AssertOneVerification(cost);
        AssertCheck(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync(password, hash, storedNormalized: true), note);
        fixture.AssertOneVerification(cost);
        Assert.True(PasswordHasher.IsTooLong(password));
    }

    [Fact]
    public async Task NewHashesAreTwoBAtTheConfiguredCostWithAFreshSalt()
    {
        using var fixture = new HasherFixture(cost: 5);
        string first = await fixture.Hasher.HashAsync("password123");
        string second = await fixture.Hasher.HashAsync("password123");

        Assert.StartsWith("$2b$05$", first, StringComparison.Ordinal);
        Assert.StartsWith("$2b$05$", second, StringComparison.Ordinal);
        Assert.NotEqual(first[7..29], second[7..29]);
        Assert.Equal(PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync("password123", first, storedNormalized: true));
        Assert.Equal(PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync("password123", second, storedNormalized: true));
        Assert.Equal(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync("password124", first, storedNormalized: true));
        Assert.Equal([5, 5, 5], fixture.Verifications.TakeCosts());
    }

    [Fact]
    public async Task HashBelowTheConfiguredCostAsksForARehash()
    {
        using var weak = new HasherFixture(cost: 4);
        using var stronger = new HasherFixture(cost: 5);
        string hash = await weak.Hasher.HashAsync("password123");

        Assert.Equal(PasswordCheck.Succeeded, await weak.Hasher.VerifyAsync("password123", hash, storedNormalized: true));
        Assert.Equal(PasswordCheck.SucceededRehashNeeded, await stronger.Hasher.VerifyAsync("password123", hash, storedNormalized: true));
        stronger.AssertOneVerification(4);
    }

    [PythonBcryptFact]
    public async Task NewHashesVerifyWithPython3BcryptAndItsHashesVerifyHere()
    {
        const int count = 16;
        using var fixture = new HasherFixture(cost: 4);
        // Half of them change under NFKC (full-width letters, a ligature, a decomposed accent), so Python also shows
        // that the hash is of the NFKC form, normalized by its own unicodedata.
        string[] nfkcChanging = ["ｐａｓｓ", "ﬁ", "e\u0301", "Ⅻ²"];
        var passwords = Enumerable.Range(0, count).Select(i =>
            RandomNumberGenerator.GetHexString(RandomNumberGenerator.GetInt32(0, 40)) + (i % 2 == 0 ? "é😀" : nfkcChanging[i / 2 % nfkcChanging.Length])).ToArray();
        var ours = new string[count];
        for (int i = 0; i < count; i++)
        {
            ours[i] = await fixture.Hasher.HashAsync(passwords[i]);
        }
        var saltsForThem = Enumerable.Range(0, count).Select(_ => BCrypt.Net.BCrypt.GenerateSalt(4, 'b')).ToArray();

        var lines = passwords.Select((p, i) => $"{Convert.ToHexString(Encoding.UTF8.GetBytes(p))}\t{ours[i]}\t{saltsForThem[i]}");
        var answers = await PythonBcrypt.RunAsync(
            """
            import unicodedata
            for line in sys.stdin:
                pw, ours, salt = line.rstrip("\n").split("\t")
                typed = bytes.fromhex(pw)
                nfkc = unicodedata.normalize("NFKC", typed.decode()).encode()
                print(bcrypt.checkpw(nfkc, ours.encode()), typed == nfkc or not bcrypt.checkpw(typed, ours.encode()), bcrypt.hashpw(typed, salt.encode()).decode())
            """,
            lines);

        Assert.Equal(count, answers.Length);
        for (int i = 0; i < count; i++)
        {
            var parts = answers[i].Split(' ');
            Assert.Equal("True", parts[0]);
            Assert.Equal("True", parts[1]);
            Assert.StartsWith(saltsForThem[i], parts[2], StringComparison.Ordinal);
            Assert.Equal(PasswordCheck.SucceededRehashNeeded, await fixture.Hasher.VerifyAsync(passwords[i], parts[2], storedNormalized: false));
        }
        Assert.Equal(count, fixture.Verifications.TakeCosts().Length);
    }

    [Theory]
    [InlineData("", "bcrypt form")]
    [InlineData("x", "bcrypt form")]
    [InlineData("$2b$12$abc", "length")]
    [InlineData("$2b$05$/OK.fbVrR/bpIqNJ5ianF", "length")]
    [InlineData("$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "unsupported version $2x$")]
    [InlineData("$3b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "bcrypt form")]
    [InlineData("$2$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "bcrypt form")]
    [InlineData("$2b$0x$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "two digits")]
    [InlineData("$2b$03$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "cost 3")]
    [InlineData("$2b$32$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "cost 32")]
    [InlineData("$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3=", "alphabet")]
    [InlineData("$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e ", "length")]
    [InlineData("pbkdf2_sha256$260000$abc$def", "bcrypt form")]
    [InlineData("$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "bcrypt form")]
    public async Task MalformedStoredHashFailsWithoutThrowingAndLogsAReasonWithoutTheHash(string hash, string reasonFragment)
    {
        using var fixture = new HasherFixture(cost: 4);

        Assert.Equal(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync("anything at all", hash, storedNormalized: false));
        Assert.Equal(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync("anything at all", hash, storedNormalized: true));

        var logged = fixture.Logs.Entries.Where(e => e.Category == typeof(PasswordHasher).FullName).ToArray();
        Assert.Equal(2, logged.Length);
        Assert.All(logged, entry =>
        {
            Assert.Equal(LogLevel.Error, entry.Level);
            Assert.Contains(reasonFragment, entry.Message, StringComparison.Ordinal);
            if (hash.Length > 8)
            {
                Assert.DoesNotContain(hash[7..], entry.AllText, StringComparison.Ordinal);
            }
        });
        Assert.Empty(fixture.Verifications.TakeCosts());
    }

    [Fact]
    public async Task PasswordTypedComposedDecomposedOrFullWidthVerifiesAgainstANewHash()
    {
        using var fixture = new HasherFixture(cost: 4);
        string hash = await fixture.Hasher.HashAsync("café password ﬁve");

        foreach (string typed in new[] { "café password ﬁve", "cafe\u0301 password five", "ｃａｆé ｐａｓｓｗｏｒｄ ｆｉｖｅ" })
        {
            Assert.Equal(PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync(typed, hash, storedNormalized: true));
            fixture.AssertOneVerification(4);
        }
        Assert.Equal(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync("cafe password five", hash, storedNormalized: true));
        fixture.AssertOneVerification(4);
    }

    [Fact]
    public async Task HashMadeWithoutNormalizationVerifiesOnlyWithThePasswordAsTypedAndAsksForARehash()
    {
        using var fixture = new HasherFixture(cost: 4);
        // As a migrated Flask user's hash was made: the UTF-8 of the password as typed, here with a decomposed accent.
        string typed = "cafe\u0301 password";
        string legacy = BCrypt.Net.BCrypt.HashPassword(typed, BCrypt.Net.BCrypt.GenerateSalt(4, 'b'));

        Assert.Equal(PasswordCheck.SucceededRehashNeeded, await fixture.Hasher.VerifyAsync(typed, legacy, storedNormalized: false));
        fixture.AssertOneVerification(4);
        // One verification, of the form the hash was made from: the composed spelling is not tried as well.
        Assert.Equal(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync("café password", legacy, storedNormalized: false));
        fixture.AssertOneVerification(4);
        Assert.Equal(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync(typed, legacy, storedNormalized: true));
        fixture.AssertOneVerification(4);

        // The rehash is of the NFKC form, so the same user's next login uses the normalized path.
        string rehashed = await fixture.Hasher.HashAsync(typed);
        Assert.Equal(PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync("café password", rehashed, storedNormalized: true));
    }

    [Fact]
    public async Task HashMadeWithoutNormalizationWhoseNfkcFormIsTooLongStaysAsItIs()
    {
        using var fixture = new HasherFixture(cost: 4);
        // U+FDFA is 3 bytes typed and 33 under NFKC: 14 bytes as typed, 74 normalized, which HashAsync could not store.
        string typed = "\uFDFA\uFDFAabcdefgh";
        string legacy = BCrypt.Net.BCrypt.HashPassword(typed, BCrypt.Net.BCrypt.GenerateSalt(4, 'b'));

        Assert.Equal(PasswordCheck.Succeeded, await fixture.Hasher.VerifyAsync(typed, legacy, storedNormalized: false));
        fixture.AssertOneVerification(4);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Hasher.HashAsync(typed));
        Assert.False(PasswordHasher.IsTooLong(typed));
    }

    [Theory]
    [InlineData("password\0password", "NUL: bcrypt would read this key like \"password\"")]
    [InlineData("pass\uD800word", "a lone surrogate has no UTF-8 form")]
    [InlineData("password\uFFFE", "U+FFFE cannot be normalized")]
    public async Task PasswordThatNoHashCanBeMadeOfFailsAfterOneVerification(string password, string why)
    {
        using var fixture = new HasherFixture(cost: 4);
        string hash = await fixture.Hasher.HashAsync("password");

        AssertCheck(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync(password, hash, storedNormalized: true), why);
        fixture.AssertOneVerification(4);
        AssertCheck(PasswordCheck.Failed, await fixture.Hasher.VerifyAsync(password, hash, storedNormalized: false), why);
        fixture.AssertOneVerification(4);
        await fixture.Hasher.VerifyAgainstDummyAsync(password);
        fixture.AssertOneVerification(4);
    }

    [Fact]
    public async Task EveryVerifyCallCountsExactlyOneVerificationWithTheHashCost()
    {
        using var fixture = new HasherFixture(cost: 5);
        string weak = BCrypt.Net.BCrypt.HashPassword("password123", BCrypt.Net.BCrypt.GenerateSalt(4, 'y'));

        await fixture.Hasher.VerifyAsync("password123", weak, storedNormalized: true);
        await fixture.Hasher.VerifyAsync("wrong password", weak, storedNormalized: true);
        await fixture.Hasher.VerifyAsync("password123", weak, storedNormalized: false);
        await fixture.Hasher.VerifyAgainstDummyAsync("password123");

        Assert.Equal([4, 4, 4, 5], fixture.Verifications.TakeCosts());
    }

    [Theory]
    [InlineData(72, false)]
    [InlineData(73, true)]
    public void IsTooLongCountsUtf8BytesOfTheTypedForm(int length, bool tooLong) =>
        Assert.Equal(tooLong, PasswordHasher.IsTooLong(new string('p', length)));

    [Fact]
    public void IsTooLongAcceptsAPasswordWhoseNfkcFormFits()
    {
        // 30 full-width letters: 90 bytes typed, 30 normalized (what a new hash is made of).
        Assert.False(PasswordHasher.IsTooLong(new string('ｐ', 30)));
        Assert.True(PasswordHasher.IsTooLong(new string('ｐ', 73)));
    }

    /// <summary>A PasswordHasher built as the app builds it, with its logs and its verification metric recorded.</summary>
    private sealed class HasherFixture : IDisposable
    {
        private readonly ServiceProvider _services;

        public HasherFixture(int cost)
        {
            Logs = new CapturedLogs();
            _services = new ServiceCollection()
                .AddMetrics()
                .AddLogging(logging => logging.AddProvider(Logs))
                .AddSingleton(_ => new HashingThreads(2))
                .AddSingleton(Options.Create(new PasswordHashingOptions { BcryptCost = cost }))
                .AddSingleton<PasswordHasher>()
                .BuildServiceProvider();
            Verifications = new PasswordVerificationRecorder(_services);
            Hasher = _services.GetRequiredService<PasswordHasher>();
        }

        public PasswordHasher Hasher { get; }

        public CapturedLogs Logs { get; }

        public PasswordVerificationRecorder Verifications { get; }

        public void AssertOneVerification(int cost) => Assert.Equal([cost], Verifications.TakeCosts());

        public void Dispose()
        {
            Verifications.Dispose();
            _services.Dispose();
        }
    }
}
