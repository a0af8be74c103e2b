using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Profile;

/// <summary>The response bodies of protected, me and sessions, source-generated (AOT/trim-safe), snake_case as in OAuth 2; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MeResponse))]
[JsonSerializable(typeof(WelcomeResponse))]
[JsonSerializable(typeof(SessionListResponse))]
internal sealed partial class ProfileJson : JsonSerializerContext;
