using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Passwords;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Unit;

public sealed class BcryptTests
{
    public static TheoryData<string, string, string> Vectors(string file)
    {
        var data = new TheoryData<string, string, string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", file)))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }
            var columns = line.Split('\t');
            data.Add(columns[0], columns[1], columns[2]);
        }
        return data;
    }

    public static TheoryData<string, string, string> PublishedVectors => Vectors("bcrypt-published.tsv");

    public static TheoryData<string, string, string> IndependentVectors => Vectors("bcrypt-python3-bcrypt.tsv");

    [Theory]
    [MemberData(nameof(PublishedVectors))]
    [MemberData(nameof(IndependentVectors))]
    public void ReproducesVector(string passwordHex, string expected, string note)
    {
        byte[] password = Convert.FromHexString(passwordHex);
        Span<byte> salt = stackalloc byte[Bcrypt.SaltBytes];
        Bcrypt.Decode(expected.AsSpan(7, 22), salt);
        Assert.True(Bcrypt.TryParse(expected, out var info, out _), note);

        string actual = Bcrypt.HashPassword(password, salt, info.Cost, info.Minor);

        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(PublishedVectors))]
    [MemberData(nameof(IndependentVectors))]
    public void VerifiesVectorAndRejectsAnyOtherPassword(string passwordHex, string hash, string note)
    {
        string password = Encoding.UTF8.GetString(Convert.FromHexString(passwordHex));
        // Only vectors whose bytes are valid UTF-8 can be given as .NET strings.
        if (Encoding.UTF8.GetByteCount(password) == passwordHex.Length / 2 && !password.Contains('\uFFFD', StringComparison.Ordinal))
        {
            Assert.True(Bcrypt.Verify(password, hash), note);
        }
        // A different first byte changes the key even for passwords of 72 bytes or more.
        string other = (password.StartsWith('Z') ? "Y" : "Z") + password;
        Assert.False(Bcrypt.Verify(other, hash), note);
    }

    [Fact]
    public void BytesPastTheSeventySecondDoNotCount()
    {
        var salt = new byte[Bcrypt.SaltBytes];
        byte[] seventyTwo = Encoding.ASCII.GetBytes(new string('p', 72));
        byte[] seventyThree = Encoding.ASCII.GetBytes(new string('p', 72) + "q");
        Assert.Equal(Bcrypt.HashPassword(seventyTwo, salt, 4), Bcrypt.HashPassword(seventyThree, salt, 4));
    }

    [Fact]
    public void VersionsTwoAAndTwoBAndTwoYAgreeOnOrdinaryKeys()
    {
        var salt = RandomNumberGenerator.GetBytes(Bcrypt.SaltBytes);
        byte[] password = Encoding.UTF8.GetBytes("naïve pässword");
        string[] hashes = [.. "aby".Select(minor => Bcrypt.HashPassword(password, salt, 4, minor)[4..])];
        Assert.Single(hashes.Distinct());
    }

    [Fact]
    public void NewHashesAreTwoBWithRequestedCostAndFreshSalt()
    {
        string first = Bcrypt.HashPassword("password123", 5);
        string second = Bcrypt.HashPassword("password123", 5);

        Assert.StartsWith("$2b$05$", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.True(Bcrypt.Verify("password123", first));
        Assert.True(Bcrypt.Verify("password123", second));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(32)]
    public void CostOutsideFourToThirtyOneIsRefused(int cost) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Bcrypt.HashPassword("password", cost));

    [Theory]
    [InlineData("", "length")]
    [InlineData("$2b$12$abc", "length")]
    [InlineData("$2x$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "unsupported version")]
    [InlineData("$3b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "form")]
    [InlineData("$2b$0x$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "two digits")]
    [InlineData("$2b$03$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "cost 3")]
    [InlineData("$2b$32$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", "cost 32")]
    [InlineData("$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3=", "alphabet")]
    [InlineData("pbkdf2_sha256$260000$abc$def", "length")]
    public void MalformedHashesVerifyAsFalseWithAReason(string hash, string reasonFragment)
    {
        Assert.False(Bcrypt.TryParse(hash, out _, out var reason));
        Assert.Contains(reasonFragment, reason, StringComparison.Ordinal);
        Assert.False(Bcrypt.Verify("anything", hash));
    }

    [Fact]
    public void FlaskBcryptHashesVerify()
    {
        // Rows of the independent file written the way Flask-Bcrypt writes them ($2b$12$).
        var flask = IndependentVectors.Where(row => ((string)row[2]).Contains("Flask", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(flask);
        foreach (var row in flask)
        {
            string hash = (string)row[1];
            Assert.StartsWith("$2b$12$", hash, StringComparison.Ordinal);
            Assert.True(Bcrypt.Verify(Encoding.UTF8.GetString(Convert.FromHexString((string)row[0])), hash));
        }
    }

    [PythonBcryptFact]
    public async Task AgreesBothWaysWithPython3BcryptOnFreshRandomInputs()
    {
        const int count = 16;
        var passwords = Enumerable.Range(0, count).Select(i =>
            RandomNumberGenerator.GetHexString(RandomNumberGenerator.GetInt32(0, 40)) + (i % 2 == 0 ? "é😀" : "")).ToArray();
        var ours = passwords.Select(p => Bcrypt.HashPassword(p, 4)).ToArray();
        var saltsForThem = Enumerable.Range(0, count).Select(_ => Bcrypt.HashPassword("", 4)[..29]).ToArray();

        // Python checks our hashes and hashes the same passwords with salts we chose.
        var lines = passwords.Select((p, i) => $"{Convert.ToHexString(Encoding.UTF8.GetBytes(p))}\t{ours[i]}\t{saltsForThem[i]}");
        var answers = await PythonBcrypt.RunAsync(
            """
            for line in sys.stdin:
                pw, ours, salt = line.rstrip("\n").split("\t")
                pw = bytes.fromhex(pw)
                print(bcrypt.checkpw(pw, ours.encode()), bcrypt.hashpw(pw, salt.encode()).decode())
            """,
            lines);

        Assert.Equal(count, answers.Length);
        for (int i = 0; i < count; i++)
        {
            var parts = answers[i].Split(' ');
            Assert.Equal("True", parts[0]);
            Assert.True(Bcrypt.Verify(passwords[i], parts[1]), $"their hash of password #{i} did not verify here");
            Assert.StartsWith(saltsForThem[i], parts[1], StringComparison.Ordinal);
        }
    }
}
