// AuthFunctions on Azure Functions Flex Consumption, keyless: the app reaches storage, Key Vault
// and Application Insights with a user-assigned managed identity; the storage account refuses
// shared keys; the JWT signing key lives only in Key Vault.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd sets it); used in resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. Flex Consumption is available in a subset of regions.')
param location string

@description('Origins (scheme://host[:port]) of the static sites allowed to call the API from a browser. No wildcards: the API carries credentials.')
param corsAllowedOrigins array = []

@allowed([512, 2048, 4096])
@description('Memory per instance in MB. 512 suits this app (peak RSS ~110 MB under load).')
param instanceMemoryMB int = 512

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

@secure()
@description('JWT signing key, base64 of at least 32 random bytes. Leave the default to generate one; pass the current value on later deployments unless you mean to rotate it (rotation logs everybody out).')
param signingKey string = base64('${newGuid()}${newGuid()}')

@description('Object id of a user or group to grant Key Vault Secrets Officer, for rotating the signing key (optional).')
param keyVaultAdminPrincipalId string = ''

var abbreviations = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbreviations.functionApp}${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'

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

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: '${abbreviations.storageAccount}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    principalId: identity.outputs.principalId
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
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: resourceGroup
  params: {
    name: '${abbreviations.keyVault}${resourceToken}'
    location: location
    tags: tags
    signingKey: signingKey
    principalId: identity.outputs.principalId
    adminPrincipalId: keyVaultAdminPrincipalId
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
    signingKeySecretUri: keyVault.outputs.signingKeySecretUri
    corsAllowedOrigins: corsAllowedOrigins
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    bcryptCost: bcryptCost
    accessTokenMinutes: accessTokenMinutes
    refreshTokenDays: refreshTokenDays
  }
}

// Outputs for azd (UPPER_SNAKE); no secret is ever an output.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output API_BASE_URL string = '${functionApp.outputs.url}/api'
