using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Health;

/// <summary>The health answer, source-generated (AOT/trim-safe), snake_case as in OAuth 2; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HealthJson : JsonSerializerContext;
