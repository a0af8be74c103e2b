@description('Function app name (also the default host name).')
param name string
param planName string
param location string
param tags object
@description('Resource id of the user-assigned identity the app runs as.')
param identityId string
@description('Client id of that identity (for AzureWebJobsStorage, Table Storage and App Insights).')
param identityClientId string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param appInsightsConnectionString string
@description('Key Vault secret URI (no version) of the signing key.')
param signingKeySecretUri string
param corsAllowedOrigins array
@allowed([512, 2048, 4096])
param instanceMemoryMB int
param maximumInstanceCount int
param bcryptCost int
param accessTokenMinutes int
param refreshTokenDays int

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
      runtime: {
        name: 'custom'
        version: '1.0'
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
      // Flex Consumption: no FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION or WEBSITE_RUN_FROM_PACKAGE.
      appSettings: [
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'AzureWebJobsStorage__blobServiceUri', value: storageBlobEndpoint }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: storageQueueEndpoint }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: storageTableEndpoint }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        { name: 'Storage__TableEndpoint', value: storageTableEndpoint }
        { name: 'Storage__ClientId', value: identityClientId }
        { name: 'Storage__TablePrefix', value: '' }
        { name: 'Storage__OperationTimeoutSeconds', value: '8' }
        { name: 'Auth__SigningKey', value: '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})' }
        { name: 'Auth__Issuer', value: 'https://${name}.azurewebsites.net' }
        { name: 'Auth__Audience', value: 'authfunctions-clients' }
        { name: 'Auth__AccessTokenMinutes', value: string(accessTokenMinutes) }
        { name: 'Auth__RefreshTokenDays', value: string(refreshTokenDays) }
        { name: 'Auth__RefreshGraceSeconds', value: '5' }
        { name: 'Auth__BcryptCost', value: string(bcryptCost) }
        { name: 'Auth__ClockSkewSeconds', value: '30' }
        { name: 'Auth__RevocationCacheSeconds', value: '0' }
        { name: 'Throttle__FreeAttempts', value: '5' }
        { name: 'Throttle__BaseDelaySeconds', value: '1' }
        { name: 'Throttle__MaxDelaySeconds', value: '900' }
        { name: 'Throttle__MaxFailuresPerHour', value: '100' }
        { name: 'RateLimit__PermitsPerMinute', value: '30' }
      ]
    }
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
