using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Account;

/// <summary>The bodies of the account functions (email verification, password reset, profile), source-generated, snake_case; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EmailVerifyRequest))]
[JsonSerializable(typeof(PasswordForgotRequest))]
[JsonSerializable(typeof(PasswordResetRequest))]
[JsonSerializable(typeof(ProfileUpdateRequest))]
[JsonSerializable(typeof(AccountDeleteRequest))]
[JsonSerializable(typeof(EmailQueuedResponse))]
internal sealed partial class AccountJson : JsonSerializerContext;
