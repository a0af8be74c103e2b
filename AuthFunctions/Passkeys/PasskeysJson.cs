using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Passkeys;

/// <summary>The bodies of the passkey functions, source-generated, snake_case (the WebAuthn options keep their camelCase names); the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PasskeyRegisterRequest))]
[JsonSerializable(typeof(PasskeyLoginRequest))]
[JsonSerializable(typeof(PasskeyLoginOptionsRequest))]
[JsonSerializable(typeof(PasskeyCreatedResponse))]
[JsonSerializable(typeof(PasskeyListResponse))]
[JsonSerializable(typeof(PasskeyCreationOptionsResponse))]
[JsonSerializable(typeof(PasskeyRequestOptionsResponse))]
internal sealed partial class PasskeysJson : JsonSerializerContext;

/// <summary>The library's own contracts for RegistrationResponseJSON and AuthenticationResponseJSON (its names and base64url converters), source-generated here.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Fido2NetLib.AuthenticatorAttestationRawResponse))]
[JsonSerializable(typeof(Fido2NetLib.AuthenticatorAssertionRawResponse))]
internal sealed partial class WebAuthnJson : JsonSerializerContext;
