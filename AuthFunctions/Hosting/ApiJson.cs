using System.Text.Json.Serialization.Metadata;
using AuthFunctions.Account;
using AuthFunctions.Auth;
using AuthFunctions.Federation;
using AuthFunctions.Health;
using AuthFunctions.Passkeys;
using AuthFunctions.Profile;
using AuthFunctions.ResourceServers;

namespace AuthFunctions.Hosting;

/// <summary>Every feature's source-generated JSON context, composed once for the responses and the OpenAPI schemas.</summary>
public static class ApiJson
{
    public static IReadOnlyList<IJsonTypeInfoResolver> Contexts { get; } =
        [AuthJson.Default, ProfileJson.Default, HealthJson.Default, ResourceServersJson.Default, AccountJson.Default, Mfa.MfaJson.Default, PasskeysJson.Default,
        FederationJson.Default];

    public static IServiceCollection AddApiJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(json =>
        {
            // Responses use the OAuth 2 style of the contract (access_token, full_name), not the web default camelCase.
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            foreach (var context in Contexts)
            {
                json.SerializerOptions.TypeInfoResolverChain.Insert(0, context);
            }
        });
}
