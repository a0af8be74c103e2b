using System.Buffers.Binary;
using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// A passkey authenticator in the test: one EC P-256 credential (ES256, COSE alg -7), making attestations (<c>packed</c>
/// self-attestation or <c>none</c>) and assertions as WebAuthn Level 3 §6 describes them, and the client's part (the
/// <c>clientDataJSON</c>, the JSON forms of <c>credential.toJSON()</c>). Every field a test needs to get wrong can be
/// changed: origin, RP ID, flags, counter, challenge.
/// </summary>
public sealed class SoftwareAuthenticator : IDisposable
{
    private const byte UserPresent = 0x01;
    private const byte UserVerified = 0x04;
    private const byte AttestedCredentialData = 0x40;

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public SoftwareAuthenticator(string rpId, string origin, byte[]? credentialId = null)
    {
        RpId = rpId;
        Origin = origin;
        CredentialId = credentialId ?? RandomNumberGenerator.GetBytes(32);
    }

    public string RpId { get; set; }

    public string Origin { get; set; }

    public byte[] CredentialId { get; }

    public string CredentialIdText => Base64Url(CredentialId);

    /// <summary>The signature counter: the last one reported (0: an authenticator that does not count, as synced passkeys).</summary>
    public uint SignCount { get; set; }

    /// <summary>Whether the next ceremony reports user verification (the UV flag).</summary>
    public bool VerifiesUser { get; set; } = true;

    /// <summary>The user handle the registration options gave (the account's id), sent back with every assertion.</summary>
    public byte[]? UserHandle { get; private set; }

    /// <summary>The RegistrationResponseJSON answering <paramref name="creationOptions"/> (as <c>navigator.credentials.create</c> then <c>toJSON()</c>).</summary>
    public JsonObject Register(JsonElement creationOptions, string format = "packed")
    {
        UserHandle = Convert.FromBase64String(ToBase64(creationOptions.GetProperty("user").GetProperty("id").GetString()!));
        byte[] clientData = ClientData("webauthn.create", creationOptions.GetProperty("challenge").GetString()!);
        byte[] authData = AuthenticatorData(withCredential: true);
        byte[] attestation = AttestationObject(format, authData, clientData);
        return new JsonObject
        {
            ["id"] = CredentialIdText,
            ["rawId"] = CredentialIdText,
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["clientDataJSON"] = Base64Url(clientData),
                ["attestationObject"] = Base64Url(attestation),
                ["authenticatorData"] = Base64Url(authData),
                ["transports"] = new JsonArray("internal"),
                ["publicKey"] = Base64Url(_key.ExportSubjectPublicKeyInfo()),
                ["publicKeyAlgorithm"] = -7,
            },
            ["clientExtensionResults"] = new JsonObject(),
            ["authenticatorAttachment"] = "platform",
        };
    }

    /// <summary>The AuthenticationResponseJSON answering <paramref name="requestOptions"/>; a counting authenticator (counter above 0) counts it first.</summary>
    public JsonObject Assert(JsonElement requestOptions)
    {
        if (SignCount > 0)
        {
            SignCount++;
        }
        byte[] clientData = ClientData("webauthn.get", requestOptions.GetProperty("challenge").GetString()!);
        byte[] authData = AuthenticatorData(withCredential: false);
        byte[] signature = _key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["id"] = CredentialIdText,
            ["rawId"] = CredentialIdText,
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["clientDataJSON"] = Base64Url(clientData),
                ["authenticatorData"] = Base64Url(authData),
                ["signature"] = Base64Url(signature),
                ["userHandle"] = UserHandle is null ? null : Base64Url(UserHandle),
            },
            ["clientExtensionResults"] = new JsonObject(),
            ["authenticatorAttachment"] = "platform",
        };
    }

    private byte[] ClientData(string type, string challenge) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["type"] = type, ["challenge"] = challenge, ["origin"] = Origin, ["crossOrigin"] = false });

    // WebAuthn §6.1: rpIdHash (32) | flags (1) | signCount (4, big-endian) | [attested credential data] — no extensions.
    private byte[] AuthenticatorData(bool withCredential)
    {
        var data = new List<byte>(SHA256.HashData(Encoding.UTF8.GetBytes(RpId)));
        data.Add((byte)(UserPresent | (VerifiesUser ? UserVerified : 0) | (withCredential ? AttestedCredentialData : 0)));
        var counter = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(counter, SignCount);
        data.AddRange(counter);
        if (withCredential)
        {
            data.AddRange(new byte[16]); // AAGUID: none (a "none"-attesting authenticator may send zeros).
            var length = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)CredentialId.Length);
            data.AddRange(length);
            data.AddRange(CredentialId);
            data.AddRange(CosePublicKey());
        }
        return [.. data];
    }

    // RFC 9053 / WebAuthn §5.8.5: an EC2 key {1: 2 (kty EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, CTAP2 canonical order.
    private byte[] CosePublicKey()
    {
        var point = _key.ExportParameters(false).Q;
        var writer = new CborWriter(CborConformanceMode.Ctap2Canonical);
        writer.WriteStartMap(5);
        writer.WriteInt32(1);
        writer.WriteInt32(2);
        writer.WriteInt32(3);
        writer.WriteInt32(-7);
        writer.WriteInt32(-1);
        writer.WriteInt32(1);
        writer.WriteInt32(-2);
        writer.WriteByteString(point.X!);
        writer.WriteInt32(-3);
        writer.WriteByteString(point.Y!);
        writer.WriteEndMap();
        return writer.Encode();
    }

    // WebAuthn §6.5: {"fmt", "attStmt", "authData"}; packed self-attestation (§8.2) signs authData | SHA-256(clientDataJSON) with the credential key.
    private byte[] AttestationObject(string format, byte[] authData, byte[] clientData)
    {
        var writer = new CborWriter(CborConformanceMode.Ctap2Canonical);
        writer.WriteStartMap(3);
        writer.WriteTextString("fmt");
        writer.WriteTextString(format);
        writer.WriteTextString("attStmt");
        if (format == "packed")
        {
            writer.WriteStartMap(2);
            writer.WriteTextString("alg");
            writer.WriteInt32(-7);
            writer.WriteTextString("sig");
            writer.WriteByteString(_key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
            writer.WriteEndMap();
        }
        else
        {
            writer.WriteStartMap(0);
            writer.WriteEndMap();
        }
        writer.WriteTextString("authData");
        writer.WriteByteString(authData);
        writer.WriteEndMap();
        return writer.Encode();
    }

    public static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static string ToBase64(string base64Url)
    {
        string padded = base64Url.Replace('-', '+').Replace('_', '/');
        return padded + new string('=', (4 - padded.Length % 4) % 4);
    }

    public void Dispose() => _key.Dispose();
}
