using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Keys for <c>Oidc__Providers__N__ClientAssertionKey</c> (private_key_jwt), made fresh per fixture: an RSA key with its
/// self-signed certificate (as an Entra ID certificate credential is), an EC P-256 key alone, and a key no provider knows.
/// </summary>
public sealed class ClientAssertionKeys : IDisposable
{
    public ClientAssertionKeys()
    {
        Certificate = SelfSigned(Rsa);
    }

    public RSA Rsa { get; } = RSA.Create(2048);

    public X509Certificate2 Certificate { get; }

    public ECDsa Ec { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDsa Unknown { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The certificate, then the RSA key: Key Vault writes the key first, so this order is the less usual one.</summary>
    public string CertifiedRsaPem => Certificate.ExportCertificatePem() + "\n" + Rsa.ExportPkcs8PrivateKeyPem();

    public string EcPem => Ec.ExportPkcs8PrivateKeyPem();

    public string UnknownPem => Unknown.ExportPkcs8PrivateKeyPem();

    /// <summary>The keys a provider is told (their public halves): not <see cref="Unknown"/>.</summary>
    public IReadOnlyList<AsymmetricAlgorithm> Known => [Rsa, Ec];

    public static X509Certificate2 SelfSigned(RSA key)
    {
        var request = new CertificateRequest("CN=authfunctions-tests", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public static X509Certificate2 SelfSigned(ECDsa key) =>
        new CertificateRequest("CN=authfunctions-tests", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

    public void Dispose()
    {
        Certificate.Dispose();
        Rsa.Dispose();
        Ec.Dispose();
        Unknown.Dispose();
    }
}
