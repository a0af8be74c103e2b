@description('Key Vault name: 3-24 characters.')
@minLength(3)
@maxLength(24)
param name string
param location string
param tags object
@secure()
@description('The JWT signing key to store (base64).')
param signingKey string
@description('Principal id of the app identity, allowed to read secrets.')
param principalId string
@description('Optional user or group object id allowed to manage secrets (key rotation).')
param adminPrincipalId string = ''

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource signingKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'auth-signing-key'
  properties: {
    value: signingKey
    contentType: 'base64 HMAC-SHA256 key'
  }
}

// Key Vault Secrets User: the app reads the signing key through a Key Vault reference.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets Officer (optional): an operator rotates the key.
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  name: guid(vault.id, adminPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: adminPrincipalId
  }
}

output name string = vault.name
// The secret's URI without version, so a rotated value is picked up; the value itself is never an output.
output signingKeySecretUri string = '${vault.properties.vaultUri}secrets/${signingKeySecret.name}'
