using System.Text.Json;
using System.Text.Json.Serialization;
using AuthFunctions.Account;
using AuthFunctions.Auth;
using AuthFunctions.Health;
using AuthFunctions.Profile;

namespace AuthFunctions.Hosting;

/// <summary>Every request and response body, source-generated (AOT/trim-safe); snake_case as in OAuth 2.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(RefreshRequest))]
[JsonSerializable(typeof(PasswordChangeRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(MeResponse))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(WelcomeResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(SessionListResponse))]
[JsonSerializable(typeof(AuthFunctions.Maintenance.InvocationResponse))]
[JsonSerializable(typeof(EmailVerifyRequest))]
[JsonSerializable(typeof(PasswordForgotRequest))]
[JsonSerializable(typeof(PasswordResetRequest))]
[JsonSerializable(typeof(ProfileUpdateRequest))]
[JsonSerializable(typeof(AccountDeleteRequest))]
[JsonSerializable(typeof(EmailQueuedResponse))]
internal sealed partial class AppJson : JsonSerializerContext
{
    // Built on first use: a static initializer here would run before the generated Default exists.
    private static JsonSerializerOptions? s_strictRequestOptions;

    /// <summary>For reading requests: duplicate keys are an error rather than last-one-wins (no smuggling a second "email").</summary>
    public static JsonSerializerOptions StrictRequestOptions => s_strictRequestOptions ??= new JsonSerializerOptions(Default.Options)
    {
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };
}
