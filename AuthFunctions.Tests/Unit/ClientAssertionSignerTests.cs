using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AuthFunctions.Federation;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Tests.Unit;

/// <summary>
/// The private_key_jwt assertion (OpenID Connect Core 1.0 §9, RFC 7523 §3) as a provider reads it: claims, lifetime,
/// header by key type (the certificate's thumbprints for Entra ID, else the RFC 7638 thumbprint as kid), and a
/// signature the public key verifies. The thumbprints are computed here by hand, not by the product's library.
/// </summary>
public sealed class ClientAssertionSignerTests
{
    private const string ClientId = "11111111-1111-1111-1111-111111111111";
    private const string TokenEndpoint = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token";

    private static ClientAssertionSigner Load(string pem)
    {
        var signer = ClientAssertionSigner.TryLoad(pem, out var problem);
        Assert.True(signer is not null, problem);
        return signer!;
    }

    private static void AssertClaimsAndSignature(string assertion, DateTimeOffset now, SecurityKey publicKey)
    {
        var token = new JsonWebToken(assertion);
        Assert.Equal(ClientId, token.Issuer);
        Assert.Equal(ClientId, token.Subject);
        Assert.Equal([TokenEndpoint], token.Audiences);
        Assert.Equal(32, Base64Url.DecodeFromChars(token.Id).Length);
        Assert.Equal(now.ToUnixTimeSeconds(), token.GetPayloadValue<long>("iat"));
        long lifetime = token.GetPayloadValue<long>("exp") - token.GetPayloadValue<long>("iat");
        Assert.InRange(lifetime, 1, 300);
        Assert.False(token.TryGetPayloadValue<long>("nbf", out _));
        var result = new JsonWebTokenHandler().ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            IssuerSigningKey = publicKey,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
        }).GetAwaiter().GetResult();
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    /// <summary>RFC 7638 §3: SHA-256 of the required members in lexicographic order, no whitespace.</summary>
    private static string Thumbprint(string canonicalJwk) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJwk)));

    [Fact]
    public void AnRsaKeyWithItsCertificateSignsRs256NamingTheCertificate()
    {
        using var keys = new ClientAssertionKeys();
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        string assertion = Load(keys.Rsa.ExportPkcs8PrivateKeyPem() + "\n" + keys.Certificate.ExportCertificatePem()).Create(ClientId, TokenEndpoint, now);

        var token = new JsonWebToken(assertion);
        Assert.Equal("RS256", token.Alg);
        Assert.Equal(Base64Url.EncodeToString(SHA256.HashData(keys.Certificate.RawData)), token.GetHeaderValue<string>("x5t#S256"));
#pragma warning disable CA5350 // x5t is by definition the SHA-1 thumbprint (RFC 7515 §4.1.7): it names a certificate, it secures nothing.
        Assert.Equal(Base64Url.EncodeToString(SHA1.HashData(keys.Certificate.RawData)), token.GetHeaderValue<string>("x5t"));
#pragma warning restore CA5350
        Assert.False(token.TryGetHeaderValue<string>("kid", out _));
        using var publicKey = keys.Certificate.GetRSAPublicKey()!;
        AssertClaimsAndSignature(assertion, now, new RsaSecurityKey(publicKey));
    }

    [Fact]
    public void AnEcKeyWithItsCertificateSignsEs256NamingTheCertificate()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = ClientAssertionKeys.SelfSigned(ec);
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        string assertion = Load(certificate.ExportCertificatePem() + "\n" + ec.ExportPkcs8PrivateKeyPem()).Create(ClientId, TokenEndpoint, now);

        var token = new JsonWebToken(assertion);
        Assert.Equal("ES256", token.Alg);
        Assert.Equal(Base64Url.EncodeToString(SHA256.HashData(certificate.RawData)), token.GetHeaderValue<string>("x5t#S256"));
        Assert.False(token.TryGetHeaderValue<string>("kid", out _));
        // IdentityModel writes the SHA-1 x5t for RSA certificates only; x5t#S256 names this one.
        Assert.False(token.TryGetHeaderValue<string>("x5t", out _));
        using var publicKey = certificate.GetECDsaPublicKey()!;
        AssertClaimsAndSignature(assertion, now, new ECDsaSecurityKey(publicKey));
    }

    [Fact]
    public void AnEcKeyAloneSignsEs256WithItsJwkThumbprintAsKid()
    {
        using var keys = new ClientAssertionKeys();
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var point = keys.Ec.ExportParameters(false).Q;

        string assertion = Load(keys.EcPem).Create(ClientId, TokenEndpoint, now);

        var token = new JsonWebToken(assertion);
        Assert.Equal("ES256", token.Alg);
        Assert.Equal(Thumbprint($"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64Url.EncodeToString(point.X)}\",\"y\":\"{Base64Url.EncodeToString(point.Y)}\"}}"), token.Kid);
        Assert.False(token.TryGetHeaderValue<string>("x5t", out _));
        AssertClaimsAndSignature(assertion, now, new ECDsaSecurityKey(ECDsa.Create(keys.Ec.ExportParameters(false))));
    }

    [Fact]
    public void AnRsaKeyAloneHasItsJwkThumbprintAsKidAndEveryAssertionItsOwnJti()
    {
        using var rsa = RSA.Create(3072);
        var key = rsa.ExportParameters(false);
        var signer = Load(rsa.ExportPkcs8PrivateKeyPem());
        var now = DateTimeOffset.UtcNow;

        var first = new JsonWebToken(signer.Create(ClientId, TokenEndpoint, now));
        var second = new JsonWebToken(signer.Create(ClientId, TokenEndpoint, now));

        Assert.Equal(Thumbprint($"{{\"e\":\"{Base64Url.EncodeToString(key.Exponent)}\",\"kty\":\"RSA\",\"n\":\"{Base64Url.EncodeToString(key.Modulus)}\"}}"), first.Kid);
        Assert.NotEqual(first.Id, second.Id);
    }
}
