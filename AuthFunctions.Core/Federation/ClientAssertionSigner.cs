using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthFunctions.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Federation;

/// <summary>
/// <c>private_key_jwt</c> client authentication (OpenID Connect Core 1.0 §9; RFC 7523 §2.2, §3): the key of one
/// <c>Oidc__Providers__N__ClientAssertionKey</c>, read once at start, and the short-lived assertion it signs for each
/// token request. With the key's certificate in the PEM the header names the certificate (<c>x5t#S256</c>, and for an
/// RSA certificate, as Microsoft Entra ID's certificate credentials are, also the SHA-1 <c>x5t</c> it still reads);
/// without, <c>kid</c> is the RFC 7638 thumbprint of the public key (what a provider holding the client's JWKS selects by).
/// </summary>
public sealed class ClientAssertionSigner
{
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>An assertion is spent by one token request right away; a provider keeps its <c>jti</c> until <c>exp</c>, so short is cheap for both.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    private const int MinimumRsaBits = 2048;

    private static readonly JsonWebTokenHandler Tokens = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly SigningCredentials _credentials;
    private readonly Dictionary<string, object>? _header;

    private ClientAssertionSigner(SigningCredentials credentials, Dictionary<string, object>? header)
    {
        _credentials = credentials;
        _header = header;
    }

    /// <summary><c>RS256</c> or <c>ES256</c>, by the key's type.</summary>
    public string Algorithm => _credentials.Algorithm;

    /// <summary>
    /// The assertion for one token request: <c>iss</c> = <c>sub</c> = the client id, <c>aud</c> = the token endpoint
    /// (OpenID Connect Core 1.0 §9, as Entra ID requires; oidc-provider accepts it too), a fresh 256-bit <c>jti</c>
    /// (RFC 7523 §3 item 7: a provider refuses a replay), <c>iat</c>, and <c>exp</c> <see cref="Lifetime"/> later.
    /// No <c>nbf</c>: RFC 7523 makes it optional, and a provider whose clock runs behind ours would refuse it.
    /// </summary>
    public string Create(string clientId, string tokenEndpoint, DateTimeOffset now) =>
        Tokens.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "JWT",
            Issuer = clientId,
            Audience = tokenEndpoint,
            IssuedAt = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            SigningCredentials = _credentials,
            AdditionalHeaderClaims = _header,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = clientId,
                [JwtRegisteredClaimNames.Jti] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)),
            },
        });

    /// <summary>
    /// The signer of a PEM with one unencrypted PKCS#8 private key (RSA of 2048 bits or more, or EC P-256) and, before
    /// or after it, optionally its certificate (a chain's other certificates are ignored). Null and why not otherwise:
    /// a sentence that follows the setting's name and never quotes the value.
    /// </summary>
    internal static ClientAssertionSigner? TryLoad(string pem, out string? problem)
    {
        var keys = new List<byte[]>();
        var certificates = new List<byte[]>();
        try
        {
            if (!TryReadBlocks(pem, keys, certificates, out problem))
            {
                return null;
            }
            if (keys.Count != 1)
            {
                problem = keys.Count == 0
                    ? "must hold a PKCS#8 private key (-----BEGIN PRIVATE KEY-----), optionally with its certificate (-----BEGIN CERTIFICATE-----)."
                    : "must hold one private key; this PEM has several.";
                return null;
            }
            var key = LoadKey(keys[0], out problem);
            if (key is null)
            {
                return null;
            }
            if (certificates.Count == 0)
            {
                return WithKeyThumbprint(key);
            }
            var certificate = CertificateOf(key, certificates, out problem);
            if (certificate is null)
            {
                key.Dispose();
                return null;
            }
            return WithCertificate(key, certificate);
        }
        finally
        {
            keys.ForEach(key => CryptographicOperations.ZeroMemory(key));
        }
    }

    private static bool TryReadBlocks(string pem, List<byte[]> keys, List<byte[]> certificates, out string? problem)
    {
        problem = null;
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label];
            byte[] der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(rest[fields.Base64Data], der, out int written) || written != der.Length)
            {
                problem = "has a PEM block that does not decode.";
                return false;
            }
            if (label.SequenceEqual("PRIVATE KEY"))
            {
                keys.Add(der);
            }
            else if (label.SequenceEqual("CERTIFICATE"))
            {
                certificates.Add(der);
            }
            else
            {
                CryptographicOperations.ZeroMemory(der);
                problem = "must hold an unencrypted PKCS#8 private key (-----BEGIN PRIVATE KEY-----; `openssl pkcs8 -topk8 -nocrypt` converts " +
                    "an RSA or EC one) and optionally its certificate (-----BEGIN CERTIFICATE-----), nothing else.";
                return false;
            }
            rest = rest[fields.Location.End..];
        }
        return true;
    }

    private static AsymmetricAlgorithm? LoadKey(byte[] pkcs8, out string? problem)
    {
        problem = null;
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
            if (rsa.KeySize < MinimumRsaBits)
            {
                // NIST SP 800-131A: RSA keys shorter than 2048 bits are disallowed for signatures.
                problem = $"is an RSA key of {rsa.KeySize} bits: at least {MinimumRsaBits} are required.";
                rsa.Dispose();
                return null;
            }
            return rsa;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
        }
        try
        {
            var ec = SigningKeyPem.ImportP256(pkcs8);
            problem = ec is null ? "is an EC key on another curve than P-256 (ES256)." : null;
            return ec;
        }
        catch (CryptographicException)
        {
            problem = "must be an RSA (2048 bits or more) or EC P-256 private key; this one does not decode as either.";
            return null;
        }
    }

    /// <summary>The certificate among <paramref name="certificates"/> whose public key is <paramref name="key"/>'s.</summary>
    private static X509Certificate2? CertificateOf(AsymmetricAlgorithm key, List<byte[]> certificates, out string? problem)
    {
        byte[] publicKey = key.ExportSubjectPublicKeyInfo();
        foreach (byte[] der in certificates)
        {
            X509Certificate2 certificate;
            try
            {
                certificate = X509CertificateLoader.LoadCertificate(der);
            }
            catch (CryptographicException)
            {
                problem = "has a certificate that does not decode.";
                return null;
            }
            if (certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(publicKey))
            {
                problem = null;
                return certificate;
            }
            certificate.Dispose();
        }
        problem = "has a certificate, but none for its private key.";
        return null;
    }

    private static ClientAssertionSigner WithKeyThumbprint(AsymmetricAlgorithm key)
    {
        AsymmetricSecurityKey securityKey = key switch
        {
            RSA rsa => new RsaSecurityKey(rsa),
            ECDsa ec => new ECDsaSecurityKey(ec),
            _ => throw new ArgumentException("an RSA or EC key", nameof(key)),
        };
        securityKey.KeyId = Base64UrlEncoder.Encode(securityKey.ComputeJwkThumbprint());
        return new ClientAssertionSigner(new SigningCredentials(securityKey, AlgorithmOf(key)), header: null);
    }

    private static ClientAssertionSigner WithCertificate(AsymmetricAlgorithm key, X509Certificate2 certificate)
    {
        using (certificate)
        {
            var header = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                // RFC 7515 §4.1.8: the SHA-256 thumbprint of the certificate's DER encoding.
                ["x5t#S256"] = Base64Url.EncodeToString(certificate.GetCertHash(HashAlgorithmName.SHA256)),
            };
            // No kid: the certificate names the key. The SHA-1 x5t (RFC 7515 §4.1.7) only the handler writes, and only
            // for an X509SecurityKey, which signs with RSA alone: an EC certificate is named by x5t#S256 only.
            SecurityKey securityKey = key switch
            {
                RSA rsa => new X509SecurityKey(certificate.CopyWithPrivateKey(rsa)) { KeyId = null },
                ECDsa ec => new ECDsaSecurityKey(ec),
                _ => throw new ArgumentException("an RSA or EC key", nameof(key)),
            };
            return new ClientAssertionSigner(new SigningCredentials(securityKey, AlgorithmOf(key)), header);
        }
    }

    private static string AlgorithmOf(AsymmetricAlgorithm key) => key is RSA ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256;
}
