using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.ResourceServers;

/// <summary>The jwks and introspection bodies, source-generated (AOT/trim-safe), snake_case as in RFC 7517 and RFC 7662; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(JsonWebKeySetResponse))]
[JsonSerializable(typeof(IntrospectionRequest))]
[JsonSerializable(typeof(IntrospectionResponse))]
internal sealed partial class ResourceServersJson : JsonSerializerContext;
