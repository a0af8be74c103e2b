using AuthFunctions.Http;
using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using AuthFunctions.Auth;
using AuthFunctions.Hosting;
using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;
using Xunit.Abstractions;
using AuthFunctions.Tokens;
using AuthFunctions.Throttling;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// infra/ compiled and linted by the real Bicep CLI (once for the class), and the compiled ARM
/// template held to the platform facts we rely on; settings kept in step between the app, the
/// sample settings, README and the template.
/// </summary>
public sealed partial class DeploymentTests(CompiledInfrastructure infra, ITestOutputHelper output) : IClassFixture<CompiledInfrastructure>
{
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    private const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    /// <summary>Settings the app reads that Bicep need not set, and why.</summary>
    private static readonly Dictionary<string, string> OptionalInAzure = new()
    {
        ["Storage__ConnectionString"] = "Azure uses Storage__TableEndpoint with the managed identity; shared keys are disabled",
        ["Cors__AllowedOrigins"] = "in Azure the Functions host answers CORS (siteConfig.cors), so the app's CORS stays off",
        ["Email__TimeoutSeconds"] = "the default bound suits any provider",
        ["Email__VerifyLinkHours"] = "the default link lifetime applies",
        ["Email__ResetLinkMinutes"] = "the default link lifetime applies",
        ["Auth__SigningKey"] = "new deployments sign with ES256 keys from Key Vault (Auth__SigningKeys__N); the HS256 key is for deployments made before them",
        ["Introspection__Clients"] = "no introspection clients is a valid deployment (introspect answers 404)",
        ["Auth__RevocationMaxEntries"] = "the default bound on the revocation map (100,000) suits any deployment",
        ["Oidc__Providers"] = "no OpenID Connect provider is a valid deployment (the federation functions answer 404)",
        ["Oidc__ProviderTimeoutSeconds"] = "the default bound on a provider's answers (10 s) suits any provider",
    };

    /// <summary>Settings that trigger bindings name as <c>%Setting%</c>: the host resolves them, no options type reads them.</summary>
    private static readonly string[] BindingSettings = ["Cleanup__Schedule", "Backup__Schedule"];

    /// <summary>Settings the Functions host (bindings included) and its Application Insights integration read, not the app.</summary>
    private static readonly string[] HostSettings =
    [
        "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId", "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri",
        "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        .. BindingSettings,
    ];

    /// <summary>Email settings (names fixed by DESIGN.md) that the email feature will read.</summary>
    private static readonly string[] EmailSettings =
    [
        "Email__SmtpHost", "Email__SmtpPort", "Email__SmtpUser", "Email__SmtpPassword", "Email__From", "Email__UseTls", "Email__LinkBaseUrl",
    ];

    /// <summary>Contract names (DESIGN.md) that Bicep sets ahead of the features that read them.</summary>
    private static readonly string[] ContractSettings = [.. EmailSettings, "Auth__SigningKeys__0", "Auth__SigningKeys__1"];

    private sealed record AppSetting(string Name, bool IsList);

    private static IEnumerable<AppSetting> AppSettings()
    {
        var sections = new (Type Type, string Section)[]
        {
            (typeof(AuthOptions), AuthOptions.Section),
            (typeof(AuthFunctions.Passwords.PasswordHashingOptions), AuthFunctions.Passwords.PasswordHashingOptions.Section),
            (typeof(AuthFunctions.Passwords.PasswordPolicyOptions), AuthFunctions.Passwords.PasswordPolicyOptions.Section),
            (typeof(StorageOptions), StorageOptions.Section),
            (typeof(ThrottleOptions), ThrottleOptions.Section),
            (typeof(RateLimitOptions), RateLimitOptions.Section),
            (typeof(StaticSiteCorsOptions), StaticSiteCorsOptions.Section),
            (typeof(AuthFunctions.ResourceServers.IntrospectionOptions), AuthFunctions.ResourceServers.IntrospectionOptions.Section),
            (typeof(AuthFunctions.Email.EmailOptions), AuthFunctions.Email.EmailOptions.Section),
            (typeof(AuthFunctions.Backup.BackupOptions), AuthFunctions.Backup.BackupOptions.Section),
            (typeof(AuthFunctions.Mfa.MfaOptions), AuthFunctions.Mfa.MfaOptions.Section),
            (typeof(AuthFunctions.Passkeys.PasskeyOptions), AuthFunctions.Passkeys.PasskeyOptions.Section),
            (typeof(AuthFunctions.Federation.OidcOptions), AuthFunctions.Federation.OidcOptions.Section),
        };
        return sections.SelectMany(s => s.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
            .Select(p => new AppSetting($"{s.Section}__{p.Name}",
                p.PropertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(p.PropertyType))));
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
    public void BicepBuildsAndLintsWithoutAnyErrorOrWarning()
    {
        output.WriteLine($"bicep {BicepCli.Version}: build {infra.Build.Elapsed.TotalSeconds:F2} s, lint {infra.Lint.Elapsed.TotalSeconds:F2} s");
        Assert.True(infra.Build.ExitCode == 0 && infra.Build.Diagnostics.Count == 0, infra.Build.Describe());
        Assert.True(infra.Lint.ExitCode == 0 && infra.Lint.Diagnostics.Count == 0, infra.Lint.Describe());
    }

    [Fact]
    public async Task ValidateInfraScriptFailsOnAWarningAndPassesOnTheRealInfra()
    {
        string broken = Path.Combine(Path.GetTempPath(), "authfunctions-infra-" + Guid.NewGuid().ToString("N"));
        CopyDirectory(Path.Combine(RepositoryRoot.Path, "infra"), broken);
        try
        {
            await File.AppendAllTextAsync(Path.Combine(broken, "main.bicep"), "\nparam notUsedAnywhere string = ''\n");

            var failing = await ScriptRunner.RunAsync("scripts/validate-infra", broken);
            var passing = await ScriptRunner.RunAsync("scripts/validate-infra");

            Assert.True(failing.ExitCode != 0, failing.Output);
            Assert.Contains("no-unused-params", failing.Output, StringComparison.Ordinal);
            Assert.True(passing.ExitCode == 0, passing.Output);
            Assert.Contains("no errors, no warnings", passing.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(broken, recursive: true);
        }
    }

    [Fact]
    public void ResourcesHaveTheExpectedTypesAndPinnedApiVersions()
    {
        var resources = infra.Main.AllResources()
            .Where(r => r.Type != "Microsoft.Resources/deployments")
            .Select(r => $"{r.Template.Name}: {r.Type}@{r.ApiVersion}")
            .Order(StringComparer.Ordinal);

        Assert.Equal(
        [
            "function-app: Microsoft.Insights/diagnosticSettings@2021-05-01-preview",
            "function-app: Microsoft.Web/serverfarms@2024-04-01",
            "function-app: Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01",
            "function-app: Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01",
            "function-app: Microsoft.Web/sites@2024-04-01",
            "identity: Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31",
            "keyvault: Microsoft.Authorization/locks@2020-05-01",
            "keyvault: Microsoft.Authorization/roleAssignments@2022-04-01",
            "keyvault: Microsoft.Authorization/roleAssignments@2022-04-01",
            "keyvault: Microsoft.Insights/diagnosticSettings@2021-05-01-preview",
            "keyvault: Microsoft.KeyVault/vaults/secrets@2023-07-01",
            "keyvault: Microsoft.KeyVault/vaults@2023-07-01",
            "main: Microsoft.Resources/resourceGroups@2024-03-01",
            "monitoring: Microsoft.Authorization/roleAssignments@2022-04-01",
            "monitoring: Microsoft.Insights/actionGroups@2023-01-01",
            "monitoring: Microsoft.Insights/components@2020-02-02",
            "monitoring: Microsoft.Insights/scheduledQueryRules@2023-03-15-preview",
            "monitoring: Microsoft.OperationalInsights/workspaces@2023-09-01",
            "storage: Microsoft.Authorization/locks@2020-05-01",
            "storage: Microsoft.Authorization/roleAssignments@2022-04-01",
            "storage: Microsoft.Authorization/roleAssignments@2022-04-01",
            "storage: Microsoft.Insights/diagnosticSettings@2021-05-01-preview",
            "storage: Microsoft.Insights/diagnosticSettings@2021-05-01-preview",
            "storage: Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts/blobServices@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts/tableServices@2023-05-01",
            "storage: Microsoft.Storage/storageAccounts@2023-05-01",
        ], resources);
    }

    [Fact]
    public void FunctionAppRunsOnFlexConsumptionAsADotNet10IsolatedWorker()
    {
        var app = infra.Main.Module("function-app");
        var plan = app.Resource("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", plan.Str("sku", "name"));
        Assert.Equal("FlexConsumption", plan.Str("sku", "tier"));
        Assert.True(plan.At("properties", "reserved").GetBoolean());

        var site = app.Resource("Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", site.Str("kind"));
        Assert.Equal("UserAssigned", site.Str("identity", "type"));
        Assert.True(site.At("properties", "httpsOnly").GetBoolean());
        Assert.Equal("[parameters('identityId')]", site.Str("properties", "keyVaultReferenceIdentity"));
        var config = site.At("properties", "functionAppConfig");
        Assert.Equal("dotnet-isolated", config.Str("runtime", "name"));
        Assert.Equal("10.0", config.Str("runtime", "version"));
        Assert.Equal("blobContainer", config.Str("deployment", "storage", "type"));
        Assert.Equal("UserAssignedIdentity", config.Str("deployment", "storage", "authentication", "type"));
        Assert.Equal("[parameters('instanceMemoryMB')]", config.Str("scaleAndConcurrency", "instanceMemoryMB"));
        Assert.Equal("[parameters('maximumInstanceCount')]", config.Str("scaleAndConcurrency", "maximumInstanceCount"));
        Assert.Equal("1.2", site.Str("properties", "siteConfig", "minTlsVersion"));
        Assert.Equal("Disabled", site.Str("properties", "siteConfig", "ftpsState"));
        Assert.Equal("[parameters('corsAllowedOrigins')]", site.Str("properties", "siteConfig", "cors", "allowedOrigins"));
        Assert.Equal([512, 2048, 4096], infra.Main.Parameter("instanceMemoryMB").GetProperty("allowedValues").EnumerateArray().Select(v => v.GetInt32()));
        // Flex Consumption refuses these: functionAppConfig replaces them. Not as a setting, nor anywhere
        // else in the app's template (a linuxFxVersion or a stray setting expression).
        string[] notOnFlex = ["FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE"];
        Assert.DoesNotContain(EmittedSettings(), s => notOnFlex.Contains(s));
        Assert.All(notOnFlex, name => Assert.DoesNotContain(name, app.Root.GetRawText(), StringComparison.Ordinal));
        Assert.False(site.At("properties", "siteConfig").TryGetProperty("linuxFxVersion", out _));

        // Deployments authenticate with Entra ID: no basic publishing credentials for scm or ftp.
        var policies = app.Resources().Where(r => r.Str("type") == "Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(["[format('{0}/{1}', parameters('name'), 'ftp')]", "[format('{0}/{1}', parameters('name'), 'scm')]"],
            policies.Select(p => p.Str("name")).Order(StringComparer.Ordinal));
        Assert.All(policies, p => Assert.False(p.At("properties", "allow").GetBoolean()));
    }

    [Fact]
    public void CleanupScheduleIsASettingThatDefaultsToEveryFifteenMinutes()
    {
        // The cleanup TimerTrigger's schedule is '%Cleanup__Schedule%': a missing setting fails the function's indexing.
        Assert.Equal("[parameters('cleanupSchedule')]", SettingsVariable().Single(s => s.Str("name") == "Cleanup__Schedule").Str("value"));
        Assert.Equal("[parameters('cleanupSchedule')]", infra.Main.ModuleParameter("function-app", "cleanupSchedule"));
        Assert.Equal("0 */15 * * * *", infra.Main.Parameter("cleanupSchedule").Str("defaultValue"));
        Assert.Equal("string", infra.Main.Module("function-app").Parameter("cleanupSchedule").Str("type"));
    }

    [Fact]
    public void BackupIsADailyTimerWritingToTheAccountsBackupContainerAsTheAppIdentity()
    {
        Assert.Equal("[parameters('backupSchedule')]", SettingsVariable().Single(s => s.Str("name") == "Backup__Schedule").Str("value"));
        Assert.Equal("[parameters('backupSchedule')]", infra.Main.ModuleParameter("function-app", "backupSchedule"));
        Assert.Equal("0 30 2 * * *", infra.Main.Parameter("backupSchedule").Str("defaultValue"));
        Assert.Equal("[parameters('storageBlobEndpoint')]", SettingsVariable().Single(s => s.Str("name") == "Backup__BlobEndpoint").Str("value"));
        Assert.Equal("[parameters('backupContainerName')]", SettingsVariable().Single(s => s.Str("name") == "Backup__Container").Str("value"));
        Assert.Equal(AuthFunctions.Backup.BackupOptions.DefaultContainer, infra.Main.Variable("backupContainerName").GetString());
        Assert.Equal("[variables('backupContainerName')]", infra.Main.ModuleParameter("function-app", "backupContainerName"));
        Assert.Equal("[variables('backupContainerName')]", infra.Main.ModuleParameter("storage", "backupContainerName"));

        // The app identity writes exports with the Storage Blob Data Owner it holds on the whole account (host storage
        // needs it too); the container's retention policy, not the role, keeps it from changing or deleting one (and
        // only a locked policy keeps the role from shortening the policy: README says so).
        var storage = infra.Main.Module("storage");
        var blobOwner = storage.Resources().Single(r => r.Str("type") == "Microsoft.Authorization/roleAssignments" && r.Str("properties", "roleDefinitionId").Contains("storageBlobDataOwner", StringComparison.Ordinal));
        Assert.Equal(BlobDataOwner, storage.Variable("storageBlobDataOwner").GetString());
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]", blobOwner.Str("scope"));
        Assert.Equal("[parameters('principalId')]", blobOwner.Str("properties", "principalId"));
    }

    [Fact]
    public void BackupContainerIsVersionedSoftDeleteProtectedAndImmutableForTheRetentionDays()
    {
        var storage = infra.Main.Module("storage");
        var blobService = storage.Resource("Microsoft.Storage/storageAccounts/blobServices").GetProperty("properties");
        Assert.True(blobService.GetProperty("isVersioningEnabled").GetBoolean());
        Assert.True(blobService.At("deleteRetentionPolicy", "enabled").GetBoolean());
        Assert.True(blobService.At("containerDeleteRetentionPolicy", "enabled").GetBoolean());
        Assert.Equal("[variables('softDeleteDays')]", blobService.Str("deleteRetentionPolicy", "days"));
        Assert.Equal(14, storage.Variable("softDeleteDays").GetInt32());

        var containers = storage.Resources().Where(r => r.Str("type") == "Microsoft.Storage/storageAccounts/blobServices/containers").ToList();
        var backups = containers.Single(c => c.Str("name").Contains("parameters('backupContainerName')", StringComparison.Ordinal));
        Assert.Equal("None", backups.Str("properties", "publicAccess"));
        var retention = storage.Resource("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies");
        Assert.Equal("[format('{0}/{1}/{2}/{3}', parameters('name'), 'default', parameters('backupContainerName'), 'default')]", retention.Str("name"));
        Assert.Equal("[parameters('backupRetentionDays')]", retention.Str("properties", "immutabilityPeriodSinceCreationInDays"));
        Assert.False(retention.At("properties", "allowProtectedAppendWrites").GetBoolean());
        // Declared while deletion protection is on and the operator has not locked it; once locked (a locked policy
        // refuses being declared again, so every later provision would fail) it is no longer declared.
        Assert.Equal("[and(parameters('deletionProtection'), not(parameters('backupRetentionLocked')))]", retention.Str("condition"));
        Assert.False(infra.Main.Parameter("backupRetentionLocked").GetProperty("defaultValue").GetBoolean());
        Assert.Equal("[parameters('backupRetentionLocked')]", infra.Main.ModuleParameter("storage", "backupRetentionLocked"));
        Assert.Equal("${AUTH_BACKUP_RETENTION_LOCKED=false}", JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.parameters.json"))).RootElement.At("parameters", "backupRetentionLocked", "value").GetString());
        Assert.Equal("[parameters('backupRetentionDays')]", infra.Main.ModuleParameter("storage", "backupRetentionDays"));
        Assert.Equal(35, infra.Main.Parameter("backupRetentionDays").GetProperty("defaultValue").GetInt32());

        // Exports older than the retention are deleted, so "how far back" is the retention; old versions of other blobs go too.
        var rules = storage.Resource("Microsoft.Storage/storageAccounts/managementPolicies").At("properties", "policy", "rules").EnumerateArray().ToList();
        var expire = rules.Single(r => r.Str("name") == "expire-table-backups");
        Assert.Equal("[format('{0}/', parameters('backupContainerName'))]", expire.At("definition", "filters", "prefixMatch")[0].GetString());
        Assert.Equal("[parameters('backupRetentionDays')]", expire.Str("definition", "actions", "baseBlob", "delete", "daysAfterModificationGreaterThan"));
        Assert.Equal("[variables('softDeleteDays')]", rules.Single(r => r.Str("name") == "expire-old-versions").Str("definition", "actions", "version", "delete", "daysAfterCreationGreaterThan"));
    }

    [Fact]
    public void StorageAccountAndKeyVaultAreLockedAgainstDeletionUnlessTurnedOff()
    {
        Assert.True(infra.Main.Parameter("deletionProtection").GetProperty("defaultValue").GetBoolean());
        foreach (var (module, target) in new[] { ("storage", "Microsoft.Storage/storageAccounts"), ("keyvault", "Microsoft.KeyVault/vaults") })
        {
            Assert.Equal("[parameters('deletionProtection')]", infra.Main.ModuleParameter(module, "deletionProtection"));
            var lockResource = infra.Main.Module(module).Resource("Microsoft.Authorization/locks");
            Assert.Equal("CanNotDelete", lockResource.Str("properties", "level"));
            Assert.Equal($"[resourceId('{target}', parameters('name'))]", lockResource.Str("scope"));
            Assert.Equal("[parameters('deletionProtection')]", lockResource.Str("condition"));
        }
        using var parameters = ParameterFile();
        Assert.Equal("${AUTH_DELETION_PROTECTION=true}", parameters.RootElement.Str("parameters", "deletionProtection", "value"));
    }

    [Fact]
    public void StorageIsZoneRedundantByDefault()
    {
        Assert.Equal("Standard_ZRS", infra.Main.Parameter("storageSku").Str("defaultValue"));
        Assert.Contains("Standard_LRS", infra.Main.Parameter("storageSku").GetProperty("allowedValues").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("[parameters('storageSku')]", infra.Main.ModuleParameter("storage", "sku"));
        Assert.Equal("[parameters('sku')]", infra.Main.Module("storage").Resource("Microsoft.Storage/storageAccounts").Str("sku", "name"));
    }

    [Fact]
    public void KeyVaultKeepsDeletedSecretsNinetyDaysWithPurgeProtection()
    {
        var vault = infra.Main.Module("keyvault").Resource("Microsoft.KeyVault/vaults").GetProperty("properties");
        Assert.True(vault.GetProperty("enableSoftDelete").GetBoolean());
        Assert.True(vault.GetProperty("enablePurgeProtection").GetBoolean());
        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.Equal("[parameters('softDeleteRetentionDays')]", vault.Str("softDeleteRetentionInDays"));
        Assert.Equal("[parameters('keyVaultSoftDeleteRetentionDays')]", infra.Main.ModuleParameter("keyvault", "softDeleteRetentionDays"));
        Assert.Equal(90, infra.Main.Parameter("keyVaultSoftDeleteRetentionDays").GetProperty("defaultValue").GetInt32());
    }

    [Fact]
    public void AuditLogsOfTheVaultTheStorageServicesAndTheAppGoToLogAnalytics()
    {
        var expected = new (string Module, string Scope, string[] Categories)[]
        {
            ("keyvault", "[resourceId('Microsoft.KeyVault/vaults', parameters('name'))]", ["AuditEvent"]),
            ("storage", "[resourceId('Microsoft.Storage/storageAccounts/tableServices', parameters('name'), 'default')]", ["StorageWrite", "StorageDelete"]),
            ("storage", "[resourceId('Microsoft.Storage/storageAccounts/blobServices', parameters('name'), 'default')]", ["StorageWrite", "StorageDelete"]),
            ("function-app", "[resourceId('Microsoft.Web/sites', parameters('name'))]", ["FunctionAppLogs"]),
        };
        var settings = infra.Main.AllResources().Where(r => r.Type == "Microsoft.Insights/diagnosticSettings").ToList();
        Assert.Equal(expected.Length, settings.Count);
        foreach (var (module, scope, categories) in expected)
        {
            var (template, _, _, setting) = settings.Single(s => s.Template.Name == module && s.Resource.Str("scope") == scope);
            Assert.Equal("[parameters('workspaceId')]", setting.Str("properties", "workspaceId"));
            var logs = setting.At("properties", "logs");
            var entries = logs.ValueKind == JsonValueKind.Array ? logs : template.Variable(VariableReference().Match(logs.GetString()!).Groups["name"].Value);
            Assert.Equal(categories, entries.EnumerateArray().Select(l => l.Str("category")));
            Assert.All(entries.EnumerateArray(), l => Assert.True(l.GetProperty("enabled").GetBoolean()));
            Assert.Equal("[reference('monitoring').outputs.workspaceId.value]", infra.Main.ModuleParameter(module, "workspaceId"));
        }
        Assert.Equal("[resourceId('Microsoft.OperationalInsights/workspaces', parameters('logAnalyticsName'))]",
            infra.Main.Module("monitoring").Root.GetProperty("outputs").Str("workspaceId", "value"));
    }

    [Fact]
    public void LogAnalyticsTakesEntraIdOnlyAndKeepsLogsNinetyDays()
    {
        var workspace = infra.Main.Module("monitoring").Resource("Microsoft.OperationalInsights/workspaces").GetProperty("properties");
        Assert.True(workspace.At("features", "disableLocalAuth").GetBoolean());
        Assert.Equal("[parameters('retentionDays')]", workspace.Str("retentionInDays"));
        Assert.Equal("[parameters('logRetentionDays')]", infra.Main.ModuleParameter("monitoring", "retentionDays"));
        Assert.Equal(90, infra.Main.Parameter("logRetentionDays").GetProperty("defaultValue").GetInt32());
        Assert.True(infra.Main.Module("monitoring").Resource("Microsoft.Insights/components").At("properties", "DisableLocalAuth").GetBoolean());
    }

    [Fact]
    public void SecretReadsByAnyoneButTheAppRaiseAnAlert()
    {
        var monitoring = infra.Main.Module("monitoring");
        var rule = monitoring.Resource("Microsoft.Insights/scheduledQueryRules").GetProperty("properties");
        Assert.True(rule.GetProperty("enabled").GetBoolean());
        Assert.Equal("[resourceId('Microsoft.OperationalInsights/workspaces', parameters('logAnalyticsName'))]", rule.GetProperty("scopes")[0].GetString());
        Assert.Equal("PT5M", rule.Str("evaluationFrequency"));
        var criterion = rule.At("criteria", "allOf")[0];
        Assert.Equal("[format(variables('secretReadsByOthers'), parameters('keyVaultName'), parameters('principalId'))]", criterion.Str("query"));
        Assert.Equal("GreaterThan", criterion.Str("operator"));
        Assert.Equal(0, criterion.GetProperty("threshold").GetInt32());
        string query = monitoring.Variable("secretReadsByOthers").GetString()!;
        Assert.Contains("Category == \"AuditEvent\" and OperationName == \"SecretGet\"", query, StringComparison.Ordinal);
        Assert.Contains("| where Resource =~ \"{0}\"", query, StringComparison.Ordinal);
        Assert.Contains("| where CallerObjectId != \"{1}\"", query, StringComparison.Ordinal);
        // The app identity's principal id: the one caller whose reads are expected.
        Assert.Contains("'identity')", infra.Main.ModuleParameter("monitoring", "principalId"), StringComparison.Ordinal);
        Assert.Equal("[variables('keyVaultName')]", infra.Main.ModuleParameter("monitoring", "keyVaultName"));
        Assert.Equal("[variables('keyVaultName')]", infra.Main.ModuleParameter("keyvault", "name"));
        Assert.Equal("[if(empty(parameters('alertEmail')), createArray(), createArray(resourceId('Microsoft.Insights/actionGroups', format('ag-{0}', parameters('appInsightsName')))))]",
            rule.Str("actions", "actionGroups"));
    }

    [Fact]
    public void IntrospectionSecretsAreKeyVaultReferencesNamedByTheClientsIndex()
    {
        var app = infra.Main.Module("function-app");
        Assert.Equal("[flatten(map(range(0, length(parameters('introspectionClientIds'))), lambda('index', createArray("
            + "createObject('name', format('Introspection__Clients__{0}__Id', lambdaVariables('index')), 'value', parameters('introspectionClientIds')[lambdaVariables('index')]), "
            + "createObject('name', format('Introspection__Clients__{0}__Secret', lambdaVariables('index')), 'value', "
            + "__bicep.keyVaultReference(parameters('keyVaultUri'), __bicep.introspectionClientSecretName(lambdaVariables('index'))))))))]",
            app.Variable("introspectionSettings").GetString());
        Assert.Equal("[format('introspection-client-{0}', parameters('index'))]", app.Function("introspectionClientSecretName").Str("output", "value"));
        Assert.Contains("variables('introspectionSettings')", app.Resource("Microsoft.Web/sites").Str("properties", "siteConfig", "appSettings"), StringComparison.Ordinal);
        Assert.Equal("[]", infra.Main.Parameter("introspectionClientIds").Str("defaultValue"));
    }

    /// <summary>
    /// OpenID Connect client secrets, or with <c>clientAssertion</c> the private_key_jwt keys (never both), are Key Vault
    /// references by the provider's index; the rest comes from parameters.
    /// </summary>
    [Fact]
    public void OidcClientSecretsOrAssertionKeysAreKeyVaultReferencesNamedByTheProvidersIndex()
    {
        var app = infra.Main.Module("function-app");
        string oidc = app.Variable("oidcSettings").GetString()!;
        Assert.Contains("if(coalesce(tryGet(parameters('oidcProviders')[lambdaVariables('index')], 'clientAssertion'), false()), "
            + "createObject('name', format('Oidc__Providers__{0}__ClientAssertionKey', lambdaVariables('index')), 'value', __bicep.keyVaultReference(parameters('keyVaultUri'), __bicep.oidcClientAssertionKeyName(lambdaVariables('index')))), "
            + "createObject('name', format('Oidc__Providers__{0}__ClientSecret', lambdaVariables('index')), 'value', __bicep.keyVaultReference(parameters('keyVaultUri'), __bicep.oidcClientSecretName(lambdaVariables('index')))))", oidc, StringComparison.Ordinal);
        Assert.Equal("[format('oidc-client-assertion-key-{0}', parameters('index'))]", app.Function("oidcClientAssertionKeyName").Str("output", "value"));
        Assert.Contains("createObject('name', 'Oidc__CallbackBaseUrl', 'value', format('https://{0}.azurewebsites.net', parameters('name')))", oidc, StringComparison.Ordinal);
        Assert.Equal("[format('oidc-client-secret-{0}', parameters('index'))]", app.Function("oidcClientSecretName").Str("output", "value"));
        Assert.EndsWith("variables('oidcSettings'))]", app.Resource("Microsoft.Web/sites").Str("properties", "siteConfig", "appSettings"), StringComparison.Ordinal);
        Assert.Equal("[]", infra.Main.Parameter("oidcProviders").Str("defaultValue"));
    }

    /// <summary>Flex Consumption's documented bounds (Azure Functions, "Event-driven scaling": 1 to 1000).</summary>
    [Fact]
    public void MaximumInstanceCountStaysWithinFlexConsumptionsBounds()
    {
        var parameter = infra.Main.Parameter("maximumInstanceCount");
        Assert.Equal(1, parameter.GetProperty("minValue").GetInt32());
        Assert.Equal(1000, parameter.GetProperty("maxValue").GetInt32());
        Assert.InRange(parameter.GetProperty("defaultValue").GetInt32(), 1, 1000);
    }

    /// <summary>Every table a store opens (<c>tables.Get("…")</c> in AuthFunctions.Core) is backed up; the Bicep declares the same list.</summary>
    [Fact]
    public void EveryTableTheStoresUseIsBackedUp()
    {
        var used = Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "AuthFunctions.Core"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => TableUse().Matches(File.ReadAllText(f)).Select(m => m.Groups["table"].Value))
            .ToHashSet();
        Assert.Equal(used.Order(StringComparer.Ordinal), AuthFunctions.Backup.TableBackup.AppTables.Order(StringComparer.Ordinal));
    }

    /// <summary>Basic publishing is off (scm, ftp), so both ways to deploy must authenticate with Entra ID: az's signed-in identity, azd's.</summary>
    [Fact]
    public void DeploymentsPublishWithEntraIdNeverWithPublishingCredentials()
    {
        string deploy = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "scripts", "deploy"));
        Assert.Contains("az functionapp deployment source config-zip", deploy, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?i)publish-?profile|publishingcredentials|list-publishing|--username|--password|ftp|curl", deploy);
        Assert.Contains("\n    host: function\n", AzureYaml(), StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?i)publish-?profile|ftp", AzureYaml());
    }

    [Fact]
    public void AzdBuildsTheWorkerProjectAndDeploysItToTheAppTaggedWithItsServiceName()
    {
        // azd finds the app by the azd-service-name tag and publishes the project with `dotnet publish`.
        string yaml = AzureYaml();
        Assert.Contains("\nservices:\n  api:\n    project: ./AuthFunctions\n    language: dotnet\n    host: function\n", yaml, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(RepositoryRoot.Path, "AuthFunctions", "AuthFunctions.csproj")));
        var site = infra.Main.Module("function-app").Resource("Microsoft.Web/sites");
        Assert.Equal("[union(parameters('tags'), createObject('azd-service-name', 'api'))]", site.Str("tags"));
        // The service deploys the app; a hook that deployed it too would upload a second package.
        Assert.DoesNotMatch(@"run:.*scripts/deploy", yaml);
        Assert.DoesNotContain("custom handler", yaml, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void StorageIsKeylessAndReachedWithTheAppIdentity()
    {
        var account = infra.Main.Module("storage").Resource("Microsoft.Storage/storageAccounts");
        Assert.False(account.At("properties", "allowSharedKeyAccess").GetBoolean());
        Assert.False(account.At("properties", "allowBlobPublicAccess").GetBoolean());
        Assert.True(account.At("properties", "defaultToOAuthAuthentication").GetBoolean());
        Assert.True(account.At("properties", "supportsHttpsTrafficOnly").GetBoolean());
        Assert.Equal("TLS1_2", account.Str("properties", "minimumTlsVersion"));
        // Every table the app keeps is declared, with the app's prefix: users, emails and revocations.
        var storage = infra.Main.Module("storage");
        var tables = storage.Resource("Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Equal("[length(variables('appTables'))]", tables.Str("copy", "count"));
        Assert.Equal("[format('{0}/{1}/{2}', parameters('name'), 'default', format('{0}{1}', parameters('tablePrefix'), variables('appTables')[copyIndex()]))]", tables.Str("name"));
        Assert.Equal(AuthFunctions.Backup.TableBackup.AppTables, storage.Variable("appTables").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("[parameters('tablePrefix')]", infra.Main.ModuleParameter("storage", "tablePrefix"));
        Assert.Equal("[parameters('tablePrefix')]", SettingsVariable().Single(s => s.Str("name") == "Storage__TablePrefix").Str("value"));

        var settings = EmittedSettings();
        Assert.Contains("AzureWebJobsStorage__credential", settings);
        Assert.Equal("managedidentity", SettingsVariable().Single(s => s.Str("name") == "AzureWebJobsStorage__credential").Str("value"));
        Assert.Contains("Storage__TableEndpoint", settings);
        Assert.DoesNotContain("AzureWebJobsStorage", settings);
        Assert.DoesNotContain("Storage__ConnectionString", settings);
        // No account key, SAS or secret is read anywhere in the template.
        Assert.DoesNotMatch(@"\blist(Keys|AccountSas|ServiceSas|Secrets)\(", infra.Main.Root.GetRawText());
    }

    [Fact]
    public void RoleAssignmentsAreNamedByGuidAndGrantTheAppIdentityWhatItUses()
    {
        var assignments = infra.Main.AllResources().Where(r => r.Type == "Microsoft.Authorization/roleAssignments").ToList();
        var roles = new Dictionary<string, string>();
        foreach (var (template, _, _, assignment) in assignments)
        {
            Assert.StartsWith("[guid(", assignment.Str("name"), StringComparison.Ordinal);
            // subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('<role>'))
            string role = template.Variable(VariableReference().Match(assignment.Str("properties", "roleDefinitionId")).Groups["name"].Value).GetString()!;
            roles[role] = template.Name;
            if (role == KeyVaultSecretsOfficer)
            {
                // Standing only for a principal named on purpose (a group by default), with its type, so nobody keeps it by accident.
                Assert.Equal("[not(empty(parameters('adminPrincipalId')))]", assignment.Str("condition"));
                Assert.Equal("[parameters('adminPrincipalId')]", assignment.Str("properties", "principalId"));
                Assert.Equal("[parameters('adminPrincipalType')]", assignment.Str("properties", "principalType"));
                continue;
            }
            Assert.Equal("[parameters('principalId')]", assignment.Str("properties", "principalId"));
            Assert.Equal("ServicePrincipal", assignment.Str("properties", "principalType"));
        }
        Assert.Equal(new Dictionary<string, string>
        {
            [BlobDataOwner] = "storage",
            [TableDataContributor] = "storage",
            [KeyVaultSecretsUser] = "keyvault",
            [KeyVaultSecretsOfficer] = "keyvault",
            [MonitoringMetricsPublisher] = "monitoring",
        }, roles);
        foreach (var module in new[] { "storage", "monitoring", "keyvault" })
        {
            Assert.Contains("'identity')", infra.Main.ModuleParameter(module, "principalId"), StringComparison.Ordinal);
            Assert.EndsWith(".outputs.principalId.value]", infra.Main.ModuleParameter(module, "principalId"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SigningKeysAreKeyVaultReferencesThatNoDeploymentValueCarries()
    {
        var app = infra.Main.Module("function-app");
        Assert.Equal(["auth-signing-key-0", "auth-signing-key-1"], app.Variable("signingKeySecretNames").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal("[format('@Microsoft.KeyVault(SecretUri={0}secrets/{1}/)', parameters('vaultUri'), parameters('secretName'))]",
            app.Function("keyVaultReference").Str("output", "value"));
        Assert.Equal("[__bicep.keyVaultReference(parameters('keyVaultUri'), variables('signingKeySecretNames')[0])]",
            SettingsVariable().Single(s => s.Str("name") == "Auth__SigningKeys__0").Str("value"));
        Assert.Equal("[if(parameters('includePreviousSigningKey'), createArray(createObject('name', 'Auth__SigningKeys__1', 'value', "
            + "__bicep.keyVaultReference(parameters('keyVaultUri'), variables('signingKeySecretNames')[1]))), createArray())]",
            app.Variable("previousSigningKeySettings").GetString());
        Assert.DoesNotContain("Auth__SigningKey", EmittedSettings());
        Assert.False(infra.Main.Parameter("includePreviousSigningKey").GetProperty("defaultValue").GetBoolean());

        // No key is a resource, a parameter or an output: the postprovision hook creates the first one.
        var secrets = infra.Main.AllResources().Where(r => r.Type == "Microsoft.KeyVault/vaults/secrets").ToList();
        Assert.Equal("[format('{0}/{1}', parameters('name'), variables('emailSmtpPasswordSecretName'))]", Assert.Single(secrets).Resource.Str("name"));
        var secureParameters = infra.Main.Templates().SelectMany(t => t.Root.GetProperty("parameters").EnumerateObject()
            .Where(p => p.Value.Str("type") is "securestring" or "secureObject").Select(p => $"{t.Name}.{p.Name}"));
        Assert.Equal(["keyvault.emailSmtpPassword", "main.emailSmtpPassword"], secureParameters.Order(StringComparer.Ordinal));
        string hook = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "scripts", "azd-ensure-signing-key"));
        Assert.Contains("secret=auth-signing-key-0\n", hook, StringComparison.Ordinal);
        Assert.Contains("  postprovision:\n    posix:\n      shell: sh\n      run: scripts/azd-ensure-signing-key && scripts/azd-ensure-mfa-key\n", AzureYaml(), StringComparison.Ordinal);
        using var parameters = ParameterFile();
        Assert.Equal("${KEY_VAULT_ADMIN_GROUP_ID=}", parameters.RootElement.Str("parameters", "keyVaultAdminPrincipalId", "value"));
    }

    [Fact]
    public void EmailSettingsAreLeftOutWhenEmptyAndThePasswordIsAKeyVaultSecret()
    {
        var app = infra.Main.Module("function-app");
        string email = app.Variable("emailSettings").GetString()!;
        Assert.StartsWith("[filter(createArray(", email, StringComparison.Ordinal);
        Assert.EndsWith("), lambda('setting', not(empty(lambdaVariables('setting').value))))]", email, StringComparison.Ordinal);
        Assert.Equal(EmailSettings, SettingNames(email));
        Assert.Contains("createObject('name', 'Email__SmtpPassword', 'value', if(parameters('emailSmtpPasswordInVault'), "
            + "__bicep.keyVaultReference(parameters('keyVaultUri'), variables('emailSmtpPasswordSecretName')), ''))", email, StringComparison.Ordinal);
        Assert.Equal("[not(empty(parameters('emailSmtpPassword')))]", infra.Main.ModuleParameter("function-app", "emailSmtpPasswordInVault"));

        Assert.Equal("securestring", infra.Main.Parameter("emailSmtpPassword").Str("type"));
        foreach (var name in new[] { "emailSmtpHost", "emailSmtpUser", "emailSmtpPassword", "emailFrom", "emailUseTls", "emailLinkBaseUrl" })
        {
            Assert.Equal("", infra.Main.Parameter(name).Str("defaultValue"));
        }
        Assert.Equal(0, infra.Main.Parameter("emailSmtpPort").GetProperty("defaultValue").GetInt32());

        var vault = infra.Main.Module("keyvault");
        Assert.Equal("email-smtp-password", vault.Variable("emailSmtpPasswordSecretName").GetString());
        Assert.Equal("securestring", vault.Parameter("emailSmtpPassword").Str("type"));
        var secret = vault.Resource("Microsoft.KeyVault/vaults/secrets");
        Assert.Equal("[not(empty(parameters('emailSmtpPassword')))]", secret.Str("condition"));
        Assert.Equal("[parameters('emailSmtpPassword')]", secret.Str("properties", "value"));
    }

    [Fact]
    public void NoOutputCarriesASecret()
    {
        Assert.Equal(["API_BASE_URL", "AZURE_FUNCTION_APP_NAME", "AZURE_KEY_VAULT_NAME", "AZURE_LOCATION", "AZURE_RESOURCE_GROUP"],
            infra.Main.Root.GetProperty("outputs").EnumerateObject().Select(o => o.Name).Order(StringComparer.Ordinal));
        foreach (var template in infra.Main.Templates())
        {
            var secure = template.Root.GetProperty("parameters").EnumerateObject()
                .Where(p => p.Value.Str("type") is "securestring" or "secureObject").Select(p => p.Name).ToList();
            if (!template.Root.TryGetProperty("outputs", out var outputs))
            {
                continue;
            }
            foreach (var item in outputs.EnumerateObject())
            {
                string value = item.Value.GetProperty("value").GetRawText();
                Assert.DoesNotMatch(@"\blist\w*\(", value);
                Assert.DoesNotMatch("(?i)password|secret|signingkey", item.Name);
                Assert.All(secure, p => Assert.DoesNotContain($"parameters('{p}')", value, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void ParametersAreDescribedAndTheParameterFileSetsOnlyRealOnesAndEveryRequiredOne()
    {
        using var parameters = ParameterFile();
        var inFile = parameters.RootElement.GetProperty("parameters").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var parameter in infra.Main.Root.GetProperty("parameters").EnumerateObject())
        {
            Assert.True(parameter.Value.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("description", out _), $"main.bicep: {parameter.Name} has no @description");
            Assert.True(parameter.Value.TryGetProperty("defaultValue", out _) || inFile.Contains(parameter.Name), $"{parameter.Name} is required but main.parameters.json does not set it");
        }
        Assert.Empty(inFile.Except(infra.Main.Parameters()));
    }

    [Fact]
    public void SampleSettingsListExactlyTheSettingsTheAppReadsAndTheEmailSettings()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] hostOnly = ["FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "ASPNETCORE_ENVIRONMENT", .. BindingSettings];
        // A list setting (X__0, X__1, …) may be left out of the sample: an empty list.
        var lists = AppSettings().Where(s => s.IsList).Select(s => s.Name + "__").ToList();

        var expected = AppSettings().Where(s => !s.IsList).Select(s => s.Name).Concat(EmailSettings).Distinct();
        var listed = values.Except(hostOnly).Where(v => !lists.Any(l => v.StartsWith(l, StringComparison.Ordinal)));
        Assert.Equal(expected.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void BicepSetsEverySettingTheAppReadsOrItIsDocumentedAsOptional()
    {
        var emitted = EmittedSettings();
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        foreach (var setting in AppSettings())
        {
            bool inBicep = setting.IsList ? emitted.Any(e => e.StartsWith(setting.Name + "__", StringComparison.Ordinal)) : emitted.Contains(setting.Name);
            Assert.True(inBicep || OptionalInAzure.ContainsKey(setting.Name), $"{setting.Name} is neither set by infra/main.bicep nor listed as optional");
            Assert.Contains(setting.IsList ? $"`{setting.Name}__" : $"`{setting.Name}`", readme, StringComparison.Ordinal);
        }
        foreach (var setting in EmailSettings)
        {
            Assert.Contains($"`{setting}`", readme, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void BicepSetsOnlySettingsThatTheAppOrTheHostReads()
    {
        var known = AppSettings().Select(s => s.Name).Concat(HostSettings).Concat(ContractSettings).ToHashSet();
        var lists = AppSettings().Where(s => s.IsList).Select(s => s.Name + "__").ToList();
        var emitted = EmittedSettings();

        Assert.Equal(emitted.Count, emitted.Distinct().Count());
        Assert.All(emitted, s => Assert.True(known.Contains(s) || lists.Any(l => s.StartsWith(l, StringComparison.Ordinal)), $"infra sets {s}, which nothing reads"));
    }

    /// <summary>Names of every app setting the function app can be given, whether always or on a condition.</summary>
    private List<string> EmittedSettings()
    {
        var app = infra.Main.Module("function-app");
        var appSettings = app.Resource("Microsoft.Web/sites").At("properties", "siteConfig", "appSettings");
        if (appSettings.ValueKind == JsonValueKind.Array)
        {
            return [.. appSettings.EnumerateArray().Select(s => s.Str("name"))];
        }
        string expression = appSettings.GetString()!;
        Assert.StartsWith("[concat(variables(", expression, StringComparison.Ordinal);
        var names = new List<string>();
        foreach (Match variable in VariableReference().Matches(expression))
        {
            var value = app.Variable(variable.Groups["name"].Value);
            names.AddRange(value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Select(s => s.Str("name")) : SettingNames(value.GetString()!));
        }
        return names;
    }

    private List<JsonElement> SettingsVariable() => [.. infra.Main.Module("function-app").Variable("settings").EnumerateArray()];

    private static IEnumerable<string> SettingNames(string expression) =>
        SettingObject().Matches(expression).Select(m => m.Groups["name"].Value);

    private static string AzureYaml() => File.ReadAllText(Path.Combine(RepositoryRoot.Path, "azure.yaml")).ReplaceLineEndings("\n");

    private static JsonDocument ParameterFile() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.parameters.json")));

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [GeneratedRegex(@"variables\('(?<name>\w+)'\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"createObject\('name', '(?<name>[^']+)'")]
    private static partial Regex SettingObject();

    [GeneratedRegex(@"tables\.Get\(""(?<table>\w+)""\)")]
    private static partial Regex TableUse();
}

/// <summary>infra/main.bicep built to ARM JSON in a temporary folder, and linted, once per test class.</summary>
public sealed class CompiledInfrastructure : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "authfunctions-bicep-" + Guid.NewGuid().ToString("N"));
    private JsonDocument? _document;

    internal BicepRun Build { get; private set; } = null!;

    internal BicepRun Lint { get; private set; } = null!;

    internal ArmTemplate Main => _document is null ? throw new InvalidOperationException(Build.Describe()) : new ArmTemplate(_document.RootElement, "main");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        string compiled = Path.Combine(_directory, "main.json");
        Build = await BicepCli.RunAsync("build", "infra/main.bicep", "--outfile", compiled);
        Lint = await BicepCli.RunAsync("lint", "infra/main.bicep");
        if (File.Exists(compiled))
        {
            _document = JsonDocument.Parse(await File.ReadAllTextAsync(compiled));
        }
    }

    public Task DisposeAsync()
    {
        _document?.Dispose();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>A compiled ARM template; nested deployments (Bicep modules) are templates named after the deployment.</summary>
internal sealed class ArmTemplate(JsonElement root, string name)
{
    public JsonElement Root => root;

    public string Name => name;

    /// <summary>Language version 1.0 lists resources; 2.0 (user-defined functions, imports) keys them by symbolic name.</summary>
    public IEnumerable<JsonElement> Resources()
    {
        var resources = root.GetProperty("resources");
        return resources.ValueKind == JsonValueKind.Array ? resources.EnumerateArray() : resources.EnumerateObject().Select(r => r.Value);
    }

    public IEnumerable<ArmTemplate> Templates() =>
        new[] { this }.Concat(Resources().Where(IsDeployment).SelectMany(d => Nested(d).Templates()));

    public IEnumerable<(ArmTemplate Template, string Type, string ApiVersion, JsonElement Resource)> AllResources() =>
        Templates().SelectMany(t => t.Resources().Select(r => (t, r.Str("type"), r.Str("apiVersion"), r)));

    public ArmTemplate Module(string deploymentName) => Nested(Resources().Single(r => IsDeployment(r) && r.Str("name") == deploymentName));

    public string ModuleParameter(string deploymentName, string parameter) =>
        Resources().Single(r => IsDeployment(r) && r.Str("name") == deploymentName).Str("properties", "parameters", parameter, "value");

    public JsonElement Resource(string type) => Resources().Single(r => r.Str("type") == type);

    public JsonElement Variable(string variable) => root.GetProperty("variables").GetProperty(variable);

    public JsonElement Parameter(string parameter) => root.GetProperty("parameters").GetProperty(parameter);

    public IEnumerable<string> Parameters() => root.GetProperty("parameters").EnumerateObject().Select(p => p.Name);

    public JsonElement Function(string function) =>
        root.GetProperty("functions").EnumerateArray().Select(n => n.GetProperty("members")).Single(m => m.TryGetProperty(function, out _)).GetProperty(function);

    private static bool IsDeployment(JsonElement resource) => resource.Str("type") == "Microsoft.Resources/deployments";

    private static ArmTemplate Nested(JsonElement deployment) => new(deployment.At("properties", "template"), deployment.Str("name"));
}

internal static class JsonPath
{
    public static JsonElement At(this JsonElement element, params string[] path) =>
        path.Aggregate(element, (current, property) => current.GetProperty(property));

    /// <summary>The string at the path, or the raw JSON of anything else.</summary>
    public static string Str(this JsonElement element, params string[] path)
    {
        var value = element.At(path);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
    }
}
