// AuthFunctions on Azure Functions Flex Consumption, keyless: the app reaches storage, Key Vault
// and Application Insights with a user-assigned managed identity; the storage account refuses
// shared keys; the JWT signing keys live only in Key Vault (created by azd's postprovision hook,
// scripts/azd-ensure-signing-key, never by a parameter).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd sets it); used in resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. Flex Consumption is available in a subset of regions.')
param location string

@description('Origins (scheme://host[:port]) of the static sites allowed to call the API from a browser. No wildcards: the API carries credentials.')
param corsAllowedOrigins string[] = []

@allowed([512, 2048, 4096])
@description('Memory per instance in MB. 512 suits this app (peak RSS ~110 MB under load).')
param instanceMemoryMB int = 512

// Flex Consumption accepts 1 to 1000 (Azure Functions docs, "Event-driven scaling", Limit scale-out; checked 2026-12).
@minValue(1)
@maxValue(1000)
@description('Upper bound on scale-out, which also bounds cost under attack.')
param maximumInstanceCount int = 40

@minValue(10)
@maxValue(20)
@description('bcrypt work factor (Auth__BcryptCost).')
param bcryptCost int = 12

@minValue(1)
@maxValue(1440)
@description('Access token lifetime in minutes (Auth__AccessTokenMinutes).')
param accessTokenMinutes int = 15

@minValue(1)
@maxValue(365)
@description('Refresh token lifetime in days (Auth__RefreshTokenDays).')
param refreshTokenDays int = 30

@minValue(1)
@maxValue(3650)
@description('Absolute lifetime of every session from its login, in days (Auth__SessionMaxDays, ASVS 7.3.2).')
param sessionMaxDays int = 90

@description('Refuse logins of accounts whose email is not verified (Auth__RequireVerifiedEmail); needs the Email settings.')
param requireVerifiedEmail bool = false

@description('NCRONTAB schedule (with seconds) of the cleanup timer function (Cleanup__Schedule); default every 15 minutes.')
param cleanupSchedule string = '0 */15 * * * *'

@description('NCRONTAB schedule (with seconds) of the backup timer function (Backup__Schedule); default daily at 02:30 UTC.')
param backupSchedule string = '0 30 2 * * *'

@minValue(1)
@maxValue(365)
@description('Days each table export stays immutable (no one can change or delete it); older exports are deleted. This is how far back a restore can go.')
param backupRetentionDays int = 35

@description('true once you have locked the backup container\'s retention policy (README, "Backup and restore"): a locked policy refuses being declared again, so the deployment stops declaring it. The lock, not this file, then keeps it.')
param backupRetentionLocked bool = false

@description('CanNotDelete locks on the storage account and the Key Vault, and time-based retention on the backup container. false only for throwaway environments (then azd down deletes everything).')
param deletionProtection bool = true

@allowed(['Standard_ZRS', 'Standard_GZRS', 'Standard_RAGZRS', 'Standard_LRS', 'Standard_GRS', 'Standard_RAGRS'])
@description('Storage redundancy. Zone-redundant by default; Standard_LRS in a region without availability zones. An existing account keeps its SKU until converted (README).')
param storageSku string = 'Standard_ZRS'

@description('Prefix of the app\'s table names (Storage__TablePrefix): set it to a restored copy\'s prefix to switch to it.')
param tablePrefix string = ''

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps logs, the Key Vault and storage audit trail included.')
param logRetentionDays int = 90

@description('Email address for alerts (a Key Vault secret read by anyone but the app); empty: alerts show in the portal only.')
param alertEmail string = ''

@description('Object id of a group (or user or service principal, see keyVaultAdminPrincipalType) that keeps Key Vault Secrets Officer for key rotations. Empty (the default): nobody keeps it; scripts/azd-ensure-signing-key grants it to whoever runs it and removes it when done.')
param keyVaultAdminPrincipalId string = ''

@allowed(['Group', 'User', 'ServicePrincipal'])
@description('What keyVaultAdminPrincipalId is.')
param keyVaultAdminPrincipalType string = 'Group'

@minValue(7)
@maxValue(90)
@description('Days a deleted Key Vault or secret stays recoverable. Fixed when the vault is created: a vault made with another value needs that value here.')
param keyVaultSoftDeleteRetentionDays int = 90

@description('Ids of the services allowed to call introspect (Introspection__Clients__N__Id); the secret of the Nth is the Key Vault secret introspection-client-N, referenced as Introspection__Clients__N__Secret.')
param introspectionClientIds string[] = []

@description('The name authenticator apps show beside the account (Mfa__Issuer; no colon).')
param mfaIssuer string = 'AuthFunctions'

@description('Reference the previous TOTP sealing key (secret mfa-encryption-key-1) as Mfa__EncryptionKeys__1: true during a rotation of mfa-encryption-key-0.')
param includePreviousMfaEncryptionKey bool = false

@description('Passkeys (WebAuthn) relying party ID, e.g. example.com: the static site\'s host or a parent domain of it (Passkeys__RelyingPartyId). Empty: passkeys are off.')
param passkeysRelyingPartyId string = ''

@description('Name authenticators show for the relying party (Passkeys__RelyingPartyName); empty: the RP ID.')
param passkeysRelyingPartyName string = ''

@description('The exact frontend origins allowed to use passkeys, e.g. https://www.example.com (Passkeys__Origins).')
param passkeysOrigins string[] = []

@description('OpenID Connect providers to sign in with: [{ name, authority, clientId, scopes?, clientAssertion? }] (Oidc__Providers__N__…); store the client secret of the Nth in Key Vault as oidc-client-secret-N, or with clientAssertion true a PEM certificate oidc-client-assertion-key-N (private_key_jwt). Empty: the federation functions answer 404.')
param oidcProviders { name: string, authority: string, clientId: string, scopes: string?, clientAssertion: bool? }[] = []

@description('Oidc__ReturnUrls: the static-site pages (absolute https URLs) a federated sign-in may return to, compared exactly.')
param oidcReturnUrls string[] = []

@description('Reference the previous signing key (secret auth-signing-key-1) as Auth__SigningKeys__1: true while tokens it signed may still be live after a rotation.')
param includePreviousSigningKey bool = false

@description('SMTP server host name (Email__SmtpHost); empty: not set.')
param emailSmtpHost string = ''

@minValue(0)
@maxValue(65535)
@description('SMTP port (Email__SmtpPort); 0: not set.')
param emailSmtpPort int = 0

@description('SMTP user name (Email__SmtpUser); empty: not set.')
param emailSmtpUser string = ''

@secure()
@description('SMTP password, stored as the Key Vault secret email-smtp-password and referenced as Email__SmtpPassword; empty: neither. Pass it on every deployment that should keep it.')
param emailSmtpPassword string = ''

@description('Sender address of the emails (Email__From); empty: not set.')
param emailFrom string = ''

@allowed(['', 'true', 'false'])
@description('Whether SMTP uses TLS (Email__UseTls); empty: not set.')
param emailUseTls string = ''

@description('Base URL of the pages that email links open, e.g. https://app.example.com/ (Email__LinkBaseUrl); empty: not set.')
param emailLinkBaseUrl string = ''

var abbreviations = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbreviations.functionApp}${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'
var backupContainerName = 'table-backups'
var keyVaultName = '${abbreviations.keyVault}${resourceToken}'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbreviations.resourceGroup}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: '${abbreviations.managedIdentity}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: '${abbreviations.logAnalytics}${resourceToken}'
    appInsightsName: '${abbreviations.appInsights}${resourceToken}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    retentionDays: logRetentionDays
    keyVaultName: keyVaultName
    alertEmail: alertEmail
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: '${abbreviations.storageAccount}${resourceToken}'
    location: location
    tags: tags
    sku: storageSku
    deploymentContainerName: deploymentContainerName
    backupContainerName: backupContainerName
    backupRetentionDays: backupRetentionDays
    backupRetentionLocked: backupRetentionLocked
    tablePrefix: tablePrefix
    principalId: identity.outputs.principalId
    deletionProtection: deletionProtection
    workspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: resourceGroup
  params: {
    name: keyVaultName
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    adminPrincipalId: keyVaultAdminPrincipalId
    adminPrincipalType: keyVaultAdminPrincipalType
    softDeleteRetentionDays: keyVaultSoftDeleteRetentionDays
    deletionProtection: deletionProtection
    workspaceId: monitoring.outputs.workspaceId
    emailSmtpPassword: emailSmtpPassword
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: resourceGroup
  params: {
    name: functionAppName
    planName: '${abbreviations.plan}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultUri: keyVault.outputs.uri
    includePreviousSigningKey: includePreviousSigningKey
    mfaIssuer: mfaIssuer
    includePreviousMfaEncryptionKey: includePreviousMfaEncryptionKey
    emailSmtpPasswordInVault: !empty(emailSmtpPassword)
    emailSmtpHost: emailSmtpHost
    emailSmtpPort: emailSmtpPort
    emailSmtpUser: emailSmtpUser
    emailFrom: emailFrom
    emailUseTls: emailUseTls
    emailLinkBaseUrl: emailLinkBaseUrl
    corsAllowedOrigins: corsAllowedOrigins
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    bcryptCost: bcryptCost
    accessTokenMinutes: accessTokenMinutes
    refreshTokenDays: refreshTokenDays
    sessionMaxDays: sessionMaxDays
    requireVerifiedEmail: requireVerifiedEmail
    cleanupSchedule: cleanupSchedule
    backupSchedule: backupSchedule
    backupContainerName: backupContainerName
    tablePrefix: tablePrefix
    introspectionClientIds: introspectionClientIds
    passkeysRelyingPartyId: passkeysRelyingPartyId
    passkeysRelyingPartyName: passkeysRelyingPartyName
    passkeysOrigins: passkeysOrigins
    oidcProviders: oidcProviders
    oidcReturnUrls: oidcReturnUrls
    workspaceId: monitoring.outputs.workspaceId
  }
}

// Outputs for azd (UPPER_SNAKE); no secret is ever an output.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output API_BASE_URL string = '${functionApp.outputs.url}/api'
