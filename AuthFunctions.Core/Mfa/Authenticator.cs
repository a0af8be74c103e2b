using System.Security.Cryptography;
using OtpNet;
using QRCoder;

namespace AuthFunctions.Mfa;

/// <summary>What an authenticator app needs to enrol: the base32 secret, the <c>otpauth://</c> URI and that URI as a QR code (SVG).</summary>
public sealed record EnrolmentMaterial(string Secret, string OtpauthUri, string QrSvg);

/// <summary>
/// The TOTP code path (RFC 6238 through Otp.NET): HMAC-SHA-1, 6 digits, 30-second steps, the code accepted within one
/// step either side (RFC 6238 §5.2 allows a small window for clock drift and typing time), as the apps that scan the QR
/// code compute it. Secrets are 160 bits (RFC 4226 §4 recommends it; NIST SP 800-63B §5.1.4.1 asks at least 112).
/// </summary>
public static class Authenticator
{
    public const int SecretBytes = 20;
    public const int Digits = 6;
    public const int StepSeconds = 30;
    private static readonly VerificationWindow Window = new(previous: 1, future: 1);

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretBytes);

    public static EnrolmentMaterial Enrolment(byte[] secret, string issuer, string accountName)
    {
        string base32 = Base32Encoding.ToString(secret).TrimEnd('=');
        string uri = new OtpUri(OtpType.Totp, base32, accountName, issuer, OtpHashMode.Sha1, Digits, StepSeconds).ToString();
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        string svg = new SvgQRCode(data).GetGraphic(4);
        return new EnrolmentMaterial(base32, uri, svg);
    }

    /// <summary>The code for the step holding <paramref name="at"/> (tests and benchmarks; the app only verifies).</summary>
    public static string Compute(byte[] secret, DateTimeOffset at) => Totp(secret).ComputeTotp(at.UtcDateTime);

    /// <summary>True when <paramref name="code"/> is the code of the step holding <paramref name="now"/> or of one either side; <paramref name="step"/> is the step it matched.</summary>
    public static bool Verify(byte[] secret, string code, DateTimeOffset now, out long step) =>
        Totp(secret).VerifyTotp(now.UtcDateTime, code, out step, Window);

    private static Totp Totp(byte[] secret) => new(secret, StepSeconds, OtpHashMode.Sha1, Digits);
}
