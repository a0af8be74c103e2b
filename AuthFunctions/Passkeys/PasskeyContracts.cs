using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Passkeys;

/// <summary><c>{"credential": RegistrationResponseJSON, "name"?}</c>: what <c>credential.toJSON()</c> gives after <c>navigator.credentials.create</c>.</summary>
public sealed record PasskeyRegisterRequest(JsonElement? Credential, string? Name);

/// <summary><c>{"challenge_id", "credential": AuthenticationResponseJSON}</c>.</summary>
public sealed record PasskeyLoginRequest(string? ChallengeId, JsonElement? Credential);

/// <summary>The (empty) body of <c>passkeys-login-options</c>: discoverable credentials, no email.</summary>
public sealed record PasskeyLoginOptionsRequest;

public sealed record PasskeyResponse(string Id, string? Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

public sealed record PasskeyCreatedResponse(string Id, string? Name, DateTimeOffset CreatedAt);

public sealed record PasskeyListResponse(IReadOnlyList<PasskeyResponse> Passkeys);

// The WebAuthn Level 3 JSON forms (PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON) that
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON accept: camelCase, binary as base64url.

public sealed record RelyingPartyJson([property: JsonPropertyName("id")] string Id, [property: JsonPropertyName("name")] string Name);

public sealed record PasskeyUserJson(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("displayName")] string DisplayName);

public sealed record CredentialParameterJson([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("alg")] long Alg);

public sealed record CredentialDescriptorJson([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("id")] string Id);

public sealed record AuthenticatorSelectionJson(
    [property: JsonPropertyName("residentKey")] string ResidentKey,
    [property: JsonPropertyName("requireResidentKey")] bool RequireResidentKey,
    [property: JsonPropertyName("userVerification")] string UserVerification);

public sealed record PasskeyCreationOptionsResponse(
    [property: JsonPropertyName("rp")] RelyingPartyJson Rp,
    [property: JsonPropertyName("user")] PasskeyUserJson User,
    [property: JsonPropertyName("challenge")] string Challenge,
    [property: JsonPropertyName("pubKeyCredParams")] IReadOnlyList<CredentialParameterJson> PubKeyCredParams,
    [property: JsonPropertyName("timeout")] ulong Timeout,
    [property: JsonPropertyName("excludeCredentials")] IReadOnlyList<CredentialDescriptorJson> ExcludeCredentials,
    [property: JsonPropertyName("authenticatorSelection")] AuthenticatorSelectionJson AuthenticatorSelection,
    [property: JsonPropertyName("attestation")] string Attestation);

/// <summary>The request options plus <c>challenge_id</c>, which the client sends back with the assertion.</summary>
public sealed record PasskeyRequestOptionsResponse(
    [property: JsonPropertyName("challenge_id")] string ChallengeId,
    [property: JsonPropertyName("challenge")] string Challenge,
    [property: JsonPropertyName("timeout")] ulong Timeout,
    [property: JsonPropertyName("rpId")] string RpId,
    [property: JsonPropertyName("allowCredentials")] IReadOnlyList<CredentialDescriptorJson> AllowCredentials,
    [property: JsonPropertyName("userVerification")] string UserVerification);
