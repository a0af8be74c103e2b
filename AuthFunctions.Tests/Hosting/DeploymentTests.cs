using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AuthFunctions.Auth;
using AuthFunctions.Hosting;
using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// The Bicep compiler is not in our feed, so these tests hold the infrastructure files to the
/// platform facts we rely on, and keep settings in step between the app, the sample and Bicep.
/// </summary>
public sealed partial class DeploymentTests
{
    private static readonly string Infra = Path.Combine(RepositoryRoot.Path, "infra");

    /// <summary>Settings that Bicep need not set, and why.</summary>
    private static readonly Dictionary<string, string> OptionalInAzure = new()
    {
        ["Storage__ConnectionString"] = "Azure uses Storage__TableEndpoint with the managed identity; shared keys are disabled",
        ["Cors__AllowedOrigins"] = "in Azure the Functions host answers CORS (siteConfig.cors), so the app's CORS stays off",
        ["Auth__SigningKeys__N"] = "this Bicep still deploys the HS256 Auth__SigningKey; both set is a start-up error",
        ["Introspection__Clients__N__Id"] = "no introspection clients is a valid deployment (introspect answers 404)",
        ["Introspection__Clients__N__Secret"] = "as Introspection__Clients__N__Id",
    };

    private static IEnumerable<string> AppSettings()
    {
        var sections = new (Type Type, string Section)[]
        {
            (typeof(AuthOptions), AuthOptions.Section),
            (typeof(StorageOptions), StorageOptions.Section),
            (typeof(ThrottleOptions), ThrottleOptions.Section),
            (typeof(RateLimitOptions), RateLimitOptions.Section),
            (typeof(CorsOptions), CorsOptions.Section),
            (typeof(AuthFunctions.ResourceServers.IntrospectionOptions), AuthFunctions.ResourceServers.IntrospectionOptions.Section),
        };
        return sections.SelectMany(s => Names(s.Type, s.Section));
    }

    /// <summary>Setting names of an options type; a list's items are <c>__N</c> (<c>Auth__SigningKeys__N</c>, <c>Introspection__Clients__N__Id</c>).</summary>
    private static IEnumerable<string> Names(Type type, string prefix) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
            .SelectMany(p => p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(List<>)
                ? p.PropertyType.GetGenericArguments()[0] == typeof(string)
                    ? [$"{prefix}__{p.Name}__N"]
                    : Names(p.PropertyType.GetGenericArguments()[0], $"{prefix}__{p.Name}__N")
                : [$"{prefix}__{p.Name}"]);

    [Fact]
    public void SampleSettingsListExactlyTheSettingsTheAppReads()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => ListIndex().Replace(p.Name, "__N")).ToHashSet();
        var hostOnly = new[] { "FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "ASPNETCORE_ENVIRONMENT" };

        Assert.Equal(AppSettings().Order(), values.Except(hostOnly).Order());
    }

    [Fact]
    public void BicepSetsEverySettingOrItIsDocumentedAsOptional()
    {
        string functionApp = File.ReadAllText(Path.Combine(Infra, "app", "function-app.bicep"));
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        foreach (var setting in AppSettings())
        {
            bool inBicep = functionApp.Contains($"name: '{setting}'", StringComparison.Ordinal);
            Assert.True(inBicep || OptionalInAzure.ContainsKey(setting), $"{setting} is neither set in function-app.bicep nor listed as optional");
            Assert.Contains($"`{setting}`", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void FlexConsumptionFactsHold()
    {
        string functionApp = File.ReadAllText(Path.Combine(Infra, "app", "function-app.bicep"));
        Assert.Contains("name: 'FC1'", functionApp, StringComparison.Ordinal);
        Assert.Contains("tier: 'FlexConsumption'", functionApp, StringComparison.Ordinal);
        Assert.Contains("reserved: true", functionApp, StringComparison.Ordinal);
        Assert.Contains("kind: 'functionapp,linux'", functionApp, StringComparison.Ordinal);
        Assert.Matches(@"runtime: \{\s*name: 'custom'\s*version: '1.0'", functionApp);
        Assert.Contains("httpsOnly: true", functionApp, StringComparison.Ordinal);
        Assert.Contains("minTlsVersion: '1.2'", functionApp, StringComparison.Ordinal);
        Assert.Contains("keyVaultReferenceIdentity: identityId", functionApp, StringComparison.Ordinal);
        Assert.Contains("'@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})'", functionApp, StringComparison.Ordinal);
        Assert.Contains("Authorization=AAD", functionApp, StringComparison.Ordinal);
        // Settings the platform forbids on Flex Consumption (outside comments).
        string code = string.Join('\n', functionApp.Split('\n').Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));
        foreach (var forbidden in new[] { "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE" })
        {
            Assert.DoesNotContain(forbidden, code, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StorageIsKeylessAndRolesAreAssignedByName()
    {
        string storage = File.ReadAllText(Path.Combine(Infra, "app", "storage.bicep"));
        Assert.Contains("allowSharedKeyAccess: false", storage, StringComparison.Ordinal);
        Assert.Contains("allowBlobPublicAccess: false", storage, StringComparison.Ordinal);
        var roles = new Dictionary<string, string>
        {
            ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "storage.bicep",
            ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "storage.bicep",
            ["4633458b-17de-408a-b874-0445c86b69e6"] = "keyvault.bicep",
            ["3913510d-42f4-4e42-8a64-420c390055eb"] = "monitoring.bicep",
        };
        foreach (var (role, file) in roles)
        {
            Assert.Contains(role, File.ReadAllText(Path.Combine(Infra, "app", file)), StringComparison.Ordinal);
        }
        foreach (var file in Directory.GetFiles(Infra, "*.bicep", SearchOption.AllDirectories))
        {
            foreach (Match assignment in RoleAssignment().Matches(File.ReadAllText(file)))
            {
                Assert.StartsWith("guid(", assignment.Groups["name"].Value.Trim(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void NoSecretIsAnOutputAndParametersAreDescribed()
    {
        foreach (var file in Directory.GetFiles(Infra, "*.bicep", SearchOption.AllDirectories))
        {
            var lines = File.ReadAllLines(file);
            foreach (var output in lines.Where(l => l.StartsWith("output ", StringComparison.Ordinal)))
            {
                Assert.DoesNotMatch("(?i)signingKey |password|connectionString.*listKeys|\\.value", output);
            }
            Assert.DoesNotContain(lines, l => l.Contains("listKeys(", StringComparison.Ordinal));
        }
        var main = File.ReadAllLines(Path.Combine(Infra, "main.bicep"));
        for (int i = 0; i < main.Length; i++)
        {
            if (main[i].StartsWith("param ", StringComparison.Ordinal))
            {
                Assert.True(main.Take(i).Reverse().TakeWhile(l => l.StartsWith('@')).Any(l => l.StartsWith("@description(", StringComparison.Ordinal)), $"main.bicep: {main[i]} has no @description");
            }
        }
    }

    [Fact]
    public void ModulesAndParameterFileReferToWhatExists()
    {
        string main = File.ReadAllText(Path.Combine(Infra, "main.bicep"));
        foreach (Match module in ModuleReference().Matches(main))
        {
            Assert.True(File.Exists(Path.Combine(Infra, module.Groups["path"].Value)), $"module {module.Groups["path"].Value} is missing");
        }
        using var parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(Infra, "main.parameters.json")));
        foreach (var parameter in parameters.RootElement.GetProperty("parameters").EnumerateObject())
        {
            Assert.Matches($@"(?m)^param {parameter.Name} ", main);
        }
        Assert.Equal(CountOf(main, '{'), CountOf(main, '}'));
        foreach (var file in Directory.GetFiles(Path.Combine(Infra, "app"), "*.bicep"))
        {
            string text = File.ReadAllText(file);
            Assert.True(CountOf(text, '{') == CountOf(text, '}'), $"{file}: unbalanced braces");
            Assert.True(CountOf(text, '[') == CountOf(text, ']'), $"{file}: unbalanced brackets");
        }
    }

    private static int CountOf(string text, char c) => text.Count(x => x == c);

    [GeneratedRegex(@"resource \w+ 'Microsoft\.Authorization/roleAssignments@[^']+' = (?:if \([^)]*\) )?\{\s*name: (?<name>[^\n]+)")]
    private static partial Regex RoleAssignment();

    [GeneratedRegex(@"module \w+ '(?<path>[^']+)'")]
    private static partial Regex ModuleReference();

    [GeneratedRegex(@"__\d+(?=__|$)")]
    private static partial Regex ListIndex();
}
