using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Auth;

/// <summary>The request and response bodies of register, login, refresh, logout and password, source-generated (AOT/trim-safe), snake_case as in OAuth 2; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(RefreshRequest))]
[JsonSerializable(typeof(PasswordChangeRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(TokenResponse))]
internal sealed partial class AuthJson : JsonSerializerContext;
