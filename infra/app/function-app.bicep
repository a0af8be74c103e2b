import { signingKeySecretNames, emailSmtpPasswordSecretName, introspectionClientSecretName, mfaEncryptionKeySecretNames, oidcClientSecretName, oidcClientAssertionKeyName } from 'secret-names.bicep'

@description('Function app name (also the default host name).')
param name string
param planName string
param location string
param tags { *: string }
@description('Resource id of the user-assigned identity the app runs as.')
param identityId string
@description('Client id of that identity (for AzureWebJobsStorage, Table Storage and App Insights).')
param identityClientId string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param appInsightsConnectionString string
@description('URI of the Key Vault that holds the secrets (https://<name>.vault.azure.net/).')
param keyVaultUri string
@description('The name authenticator apps show beside the account (Mfa__Issuer).')
param mfaIssuer string
@description('Also reference the previous TOTP sealing key (Mfa__EncryptionKeys__1), during a rotation.')
param includePreviousMfaEncryptionKey bool
@description('Also reference the previous signing key (Auth__SigningKeys__1), during a rotation.')
param includePreviousSigningKey bool
@description('Whether the vault holds the SMTP password secret, to reference as Email__SmtpPassword.')
param emailSmtpPasswordInVault bool
@description('Email__SmtpHost; empty: not set.')
param emailSmtpHost string
@description('Email__SmtpPort; 0: not set.')
param emailSmtpPort int
@description('Email__SmtpUser; empty: not set.')
param emailSmtpUser string
@description('Email__From; empty: not set.')
param emailFrom string
@description('Email__UseTls: \'true\', \'false\' or empty (not set).')
param emailUseTls string
@description('Email__LinkBaseUrl; empty: not set.')
param emailLinkBaseUrl string
param corsAllowedOrigins string[]
@allowed([512, 2048, 4096])
param instanceMemoryMB int
param maximumInstanceCount int
param bcryptCost int
param accessTokenMinutes int
param refreshTokenDays int
param sessionMaxDays int
param requireVerifiedEmail bool
@description('NCRONTAB schedule of the cleanup timer function (Cleanup__Schedule).')
param cleanupSchedule string
@description('NCRONTAB schedule of the backup timer function (Backup__Schedule).')
param backupSchedule string
@description('Blob container the backup function exports the tables to (Backup__Container).')
param backupContainerName string
@description('Prefix of the app\'s table names (Storage__TablePrefix).')
param tablePrefix string
@description('Ids of the services allowed to call introspect; the secret of the Nth is the Key Vault secret introspection-client-N.')
param introspectionClientIds string[]
@description('Passkeys relying party ID (Passkeys__RelyingPartyId); empty: passkeys are off.')
param passkeysRelyingPartyId string
@description('Name authenticators show for the relying party (Passkeys__RelyingPartyName).')
param passkeysRelyingPartyName string
@description('Frontend origins allowed to use passkeys (Passkeys__Origins).')
param passkeysOrigins string[]
@description('OpenID Connect providers (Oidc__Providers__N__Name, __Authority, __ClientId, __Scopes); the client secret of the Nth is the Key Vault secret oidc-client-secret-N, or with clientAssertion its private_key_jwt key (__ClientAssertionKey) the Key Vault certificate oidc-client-assertion-key-N.')
param oidcProviders { name: string, authority: string, clientId: string, scopes: string?, clientAssertion: bool? }[]
@description('Oidc__ReturnUrls: the static-site pages a federated sign-in may return to, exactly.')
param oidcReturnUrls string[]
@description('Log Analytics workspace that receives the function app\'s logs.')
param workspaceId string

// A Key Vault reference to the latest version of a secret (the versionless URI ends with '/').
func keyVaultReference(vaultUri string, secretName string) string =>
  '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName}/)'

// Settings always set. Flex Consumption: no FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION or
// WEBSITE_RUN_FROM_PACKAGE (functionAppConfig.runtime and .deployment replace them).
var settings = [
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storageBlobEndpoint }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storageQueueEndpoint }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storageTableEndpoint }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
  { name: 'Storage__TableEndpoint', value: storageTableEndpoint }
  { name: 'Storage__ClientId', value: identityClientId }
  { name: 'Storage__TablePrefix', value: tablePrefix }
  { name: 'Storage__OperationTimeoutSeconds', value: '8' }
  // ES256: the newest key signs; Key Vault references resolve with the user-assigned identity.
  { name: 'Auth__SigningKeys__0', value: keyVaultReference(keyVaultUri, signingKeySecretNames[0]) }
  { name: 'Auth__Issuer', value: 'https://${name}.azurewebsites.net' }
  // The key TOTP secrets are sealed under: only in Key Vault (scripts/azd-ensure-mfa-key creates it), like the signing key.
  { name: 'Mfa__EncryptionKeys__0', value: keyVaultReference(keyVaultUri, mfaEncryptionKeySecretNames[0]) }
  { name: 'Mfa__Issuer', value: mfaIssuer }
  { name: 'Auth__Audience', value: 'authfunctions-clients' }
  { name: 'Auth__AccessTokenMinutes', value: string(accessTokenMinutes) }
  { name: 'Auth__RefreshTokenDays', value: string(refreshTokenDays) }
  { name: 'Auth__SessionMaxDays', value: string(sessionMaxDays) }
  { name: 'Auth__RequireVerifiedEmail', value: string(requireVerifiedEmail) }
  { name: 'Auth__RefreshGraceSeconds', value: '5' }
  { name: 'Auth__BcryptCost', value: string(bcryptCost) }
  { name: 'Passwords__MinimumStrength', value: '3' }
  { name: 'Auth__ClockSkewSeconds', value: '30' }
  { name: 'Auth__RevocationMode', value: 'feed' }
  { name: 'Auth__RevocationPollMilliseconds', value: '1000' }
  { name: 'Throttle__FreeAttempts', value: '5' }
  { name: 'Throttle__BaseDelaySeconds', value: '1' }
  { name: 'Throttle__MaxDelaySeconds', value: '900' }
  { name: 'Throttle__MaxFailuresPerHour', value: '100' }
  { name: 'RateLimit__PermitsPerMinute', value: '30' }
  // The cleanup function's TimerTrigger schedule is '%Cleanup__Schedule%': the host resolves it from here.
  { name: 'Cleanup__Schedule', value: cleanupSchedule }
  // The same for the backup function ('%Backup__Schedule%'); it writes to the account's Blob service as the app identity.
  { name: 'Backup__Schedule', value: backupSchedule }
  { name: 'Backup__BlobEndpoint', value: storageBlobEndpoint }
  { name: 'Backup__Container', value: backupContainerName }
]

// The previous key only verifies tokens it signed before a rotation; its secret exists only then,
// and an unresolvable reference would reach the app as the literal '@Microsoft.KeyVault(...)'.
var previousSigningKeySettings = includePreviousSigningKey
  ? [{ name: 'Auth__SigningKeys__1', value: keyVaultReference(keyVaultUri, signingKeySecretNames[1]) }]
  : []

// The previous sealing key opens the TOTP secrets it sealed until every one is sealed again (README, Two-step sign-in).
var previousMfaKeySettings = includePreviousMfaEncryptionKey
  ? [{ name: 'Mfa__EncryptionKeys__1', value: keyVaultReference(keyVaultUri, mfaEncryptionKeySecretNames[1]) }]
  : []

// Introspection clients: the ids here, the secrets only in Key Vault (an operator stores them; README), so a
// deployment neither carries nor wipes them.
var introspectionSettings = flatten(map(range(0, length(introspectionClientIds)), index => [
  { name: 'Introspection__Clients__${index}__Id', value: introspectionClientIds[index] }
  { name: 'Introspection__Clients__${index}__Secret', value: keyVaultReference(keyVaultUri, introspectionClientSecretName(index)) }
]))

// Passkeys: all three settings, or none (the passkey functions then answer 404).
var passkeySettings = empty(passkeysRelyingPartyId) ? [] : [
  { name: 'Passkeys__RelyingPartyId', value: passkeysRelyingPartyId }
  { name: 'Passkeys__RelyingPartyName', value: empty(passkeysRelyingPartyName) ? passkeysRelyingPartyId : passkeysRelyingPartyName }
  { name: 'Passkeys__Origins', value: join(passkeysOrigins, ',') }
]

// OpenID Connect providers: names, issuers and client ids here, each client secret (or, with clientAssertion, the
// private_key_jwt key: a Key Vault certificate, whose secret is its PEM) only in Key Vault (an operator stores it; README).
// One or the other, never both: the app refuses to start with both. The redirect URI registered at each provider is
// https://<app>.azurewebsites.net/api/oidc/<name>/callback.
var oidcSettings = empty(oidcProviders) ? [] : concat(flatten(map(range(0, length(oidcProviders)), index => [
  { name: 'Oidc__Providers__${index}__Name', value: oidcProviders[index].name }
  { name: 'Oidc__Providers__${index}__Authority', value: oidcProviders[index].authority }
  { name: 'Oidc__Providers__${index}__ClientId', value: oidcProviders[index].clientId }
  (oidcProviders[index].?clientAssertion ?? false)
    ? { name: 'Oidc__Providers__${index}__ClientAssertionKey', value: keyVaultReference(keyVaultUri, oidcClientAssertionKeyName(index)) }
    : { name: 'Oidc__Providers__${index}__ClientSecret', value: keyVaultReference(keyVaultUri, oidcClientSecretName(index)) }
  { name: 'Oidc__Providers__${index}__Scopes', value: oidcProviders[index].?scopes ?? 'openid email profile' }
])), [
  { name: 'Oidc__ReturnUrls', value: join(oidcReturnUrls, ',') }
  { name: 'Oidc__CallbackBaseUrl', value: 'https://${name}.azurewebsites.net' }
])

// Optional settings: an empty one is left out, so the app's default applies.
var emailSettings = filter(
  [
    { name: 'Email__SmtpHost', value: emailSmtpHost }
    { name: 'Email__SmtpPort', value: emailSmtpPort == 0 ? '' : string(emailSmtpPort) }
    { name: 'Email__SmtpUser', value: emailSmtpUser }
    {
      name: 'Email__SmtpPassword'
      value: emailSmtpPasswordInVault ? keyVaultReference(keyVaultUri, emailSmtpPasswordSecretName) : ''
    }
    { name: 'Email__From', value: emailFrom }
    { name: 'Email__UseTls', value: emailUseTls }
    { name: 'Email__LinkBaseUrl', value: emailLinkBaseUrl }
  ],
  setting => !empty(setting.value)
)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      // The .NET isolated worker on .NET 10: the platform provides the runtime, so the package is
      // framework-dependent (scripts/package).
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // CORS is answered here, by the Functions host, before the app sees the request: the one
      // active CORS layer in Azure (Cors__AllowedOrigins stays unset so the app adds none).
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: false
      }
      appSettings: concat(settings, previousSigningKeySettings, previousMfaKeySettings, emailSettings, passkeySettings, introspectionSettings, oidcSettings)
    }
  }
}

// No basic (user name and password) publishing: deployments authenticate with Entra ID (azd deploy,
// scripts/deploy through az), so the scm and ftp credentials stay off.
resource scmBasicPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

// The host's and the functions' logs (invocations, failures, the worker's log lines) in Log Analytics beside the
// vault's and the storage account's audit logs.
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'function-logs'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [{ category: 'FunctionAppLogs', enabled: true }]
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
