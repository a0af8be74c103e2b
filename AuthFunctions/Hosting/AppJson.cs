using System.Text.Json;
using System.Text.Json.Serialization;
using AuthFunctions.Auth;
using AuthFunctions.Health;
using AuthFunctions.ResourceServers;
using AuthFunctions.Users;

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
[JsonSerializable(typeof(JsonWebKeySetResponse))]
[JsonSerializable(typeof(IntrospectionRequest))]
[JsonSerializable(typeof(IntrospectionResponse))]
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
