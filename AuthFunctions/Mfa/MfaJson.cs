using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Mfa;

/// <summary>The bodies of the second-factor functions, source-generated, snake_case; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TotpEnrolmentResponse))]
[JsonSerializable(typeof(MfaCodeRequest))]
[JsonSerializable(typeof(TotpRemovalRequest))]
[JsonSerializable(typeof(RecoveryCodesResponse))]
[JsonSerializable(typeof(LoginMfaRequest))]
[JsonSerializable(typeof(MfaStatusResponse))]
internal sealed partial class MfaJson : JsonSerializerContext;
