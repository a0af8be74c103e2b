import { emailSmtpPasswordSecretName } from 'secret-names.bicep'

@description('Key Vault name: 3-24 characters.')
@minLength(3)
@maxLength(24)
param name string
param location string
param tags { *: string }
@description('Principal id of the app identity, allowed to read secrets.')
param principalId string
@description('Optional object id of a group (or user, or service principal) that keeps Key Vault Secrets Officer: empty, nobody does (scripts/azd-ensure-signing-key grants it to whoever runs it only while it runs).')
param adminPrincipalId string = ''
@allowed(['Group', 'User', 'ServicePrincipal'])
@description('What adminPrincipalId is.')
param adminPrincipalType string = 'Group'
@minValue(7)
@maxValue(90)
@description('Days a deleted vault or secret stays recoverable; fixed when the vault is created.')
param softDeleteRetentionDays int
@description('Put a CanNotDelete lock on the vault.')
param deletionProtection bool
@description('Log Analytics workspace that receives the vault\'s audit log (every secret read, write and denied request).')
param workspaceId string
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
    softDeleteRetentionInDays: softDeleteRetentionDays
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

// Key Vault Secrets Officer (optional, standing): a group of operators who rotate keys, e.g. with its membership
// given just in time. Without it nobody keeps the role: scripts/azd-ensure-signing-key grants it to whoever runs it
// and removes it again when it ends.
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  name: guid(vault.id, adminPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: adminPrincipalId
    principalType: adminPrincipalType
  }
}

// Every request to the vault (who read which secret, who was denied) goes to Log Analytics; monitoring.bicep alerts
// on secret reads by anyone but the app.
resource auditLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [{ category: 'AuditEvent', enabled: true }]
  }
}

resource vaultLock 'Microsoft.Authorization/locks@2020-05-01' = if (deletionProtection) {
  name: 'do-not-delete-signing-keys'
  scope: vault
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the JWT signing keys. Remove the lock deliberately before deleting.'
  }
}

output name string = vault.name
// The signing keys are not resources here: scripts/azd-ensure-signing-key creates
// auth-signing-key-0 after provisioning (so no key ever passes through a deployment), and
// scripts/rotate-signing-key moves it to auth-signing-key-1 when it makes a new one.
output uri string = vault.properties.vaultUri
