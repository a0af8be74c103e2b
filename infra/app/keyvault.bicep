import { emailSmtpPasswordSecretName } from 'secret-names.bicep'

@description('Key Vault name: 3-24 characters.')
@minLength(3)
@maxLength(24)
param name string
param location string
param tags { *: string }
@description('Principal id of the app identity, allowed to read secrets.')
param principalId string
@description('Optional user or group object id allowed to manage secrets (the azd hook that creates the first signing key, key rotation).')
param adminPrincipalId string = ''
@secure()
@description('SMTP password to store as the email-smtp-password secret; empty: no secret.')
param emailSmtpPassword string = ''

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

resource smtpPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(emailSmtpPassword)) {
  parent: vault
  name: emailSmtpPasswordSecretName
  properties: {
    value: emailSmtpPassword
    contentType: 'SMTP password'
  }
}

// Key Vault Secrets User: the app reads the secrets through Key Vault references.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets Officer (optional): an operator (or azd's hook, as the signed-in user) writes
// the signing keys.
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  name: guid(vault.id, adminPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: adminPrincipalId
  }
}

output name string = vault.name
// The signing keys are not resources here: scripts/azd-ensure-signing-key creates
// auth-signing-key-0 after provisioning (so no key ever passes through a deployment), and
// scripts/rotate-signing-key moves it to auth-signing-key-1 when it makes a new one.
output uri string = vault.properties.vaultUri
