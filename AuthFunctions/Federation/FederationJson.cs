using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthFunctions.Federation;

/// <summary>The bodies of the federation functions, source-generated, snake_case; the app composes every feature's context.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(OidcExchangeRequest))]
[JsonSerializable(typeof(LinkTicketResponse))]
[JsonSerializable(typeof(IdentityResponse))]
internal sealed partial class FederationJson : JsonSerializerContext;
