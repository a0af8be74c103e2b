using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Maintenance;

/// <summary>The invocation response of timer functions, source-generated (AOT/trim-safe), snake_case as in OAuth 2; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(InvocationResponse))]
internal sealed partial class MaintenanceJson : JsonSerializerContext;
