@description('Storage account name: 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param name string
param location string
param tags { *: string }
@description('Redundancy of the account (main.bicep: storageSku).')
param sku string
@description('Blob container that holds the deployment package (Flex Consumption).')
param deploymentContainerName string
@description('Blob container of the table exports that the backup function writes.')
param backupContainerName string
@description('Days each export stays immutable (WORM); exports older than this are deleted by the lifecycle policy.')
param backupRetentionDays int
@description('The operator has locked the backup container\'s retention policy: it is no longer declared (a locked policy refuses updates, so declaring it again would fail every deployment).')
param backupRetentionLocked bool
@description('Prefix of the app\'s table names (Storage__TablePrefix).')
param tablePrefix string
@description('Principal id of the app identity, granted data access.')
param principalId string
@description('A CanNotDelete lock on the account and time-based retention on the backup container.')
param deletionProtection bool
@description('Log Analytics workspace that receives the table and blob services\' write and delete logs.')
param workspaceId string

// Built-in role definition ids.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

// Deleted blobs and containers stay recoverable this long (soft delete); older blob versions are removed after
// the same time by the lifecycle policy, so the host's frequently rewritten blobs do not pile up versions.
var softDeleteDays = 14

// Every table the app keeps (AuthFunctions.Core: StorageTables.Get, Backup/TableBackup.AppTables).
var appTables = ['users', 'emails', 'revocations', 'passkeys', 'passkeychallenges', 'identities', 'oidcflows']

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: sku }
  properties: {
    // Keyless: only Entra ID (managed identity) can reach the data.
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }

  resource blobServices 'blobServices' = {
    name: 'default'
    properties: {
      isVersioningEnabled: true
      deleteRetentionPolicy: { enabled: true, days: softDeleteDays }
      containerDeleteRetentionPolicy: { enabled: true, days: softDeleteDays }
    }
    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }
    resource backupContainer 'containers' = {
      name: backupContainerName
      properties: { publicAccess: 'None' }
      // Time-based retention (WORM): for backupRetentionDays no one can change or delete an export. Unlocked, so the
      // policy itself can still be shortened or removed by whoever may write it (the subscription's owners and the
      // app identity, whose Storage Blob Data Owner includes it); README says how to lock it (then it can only be
      // extended) and to set backupRetentionLocked then, which stops declaring it here.
      resource retention 'immutabilityPolicies' = if (deletionProtection && !backupRetentionLocked) {
        name: 'default'
        properties: {
          immutabilityPeriodSinceCreationInDays: backupRetentionDays
          allowProtectedAppendWrites: false
        }
      }
    }
  }

  resource tableServices 'tableServices' = {
    name: 'default'
    resource tables 'tables' = [
      for table in appTables: {
        name: '${tablePrefix}${table}'
      }
    ]
  }

  resource lifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'expire-table-backups'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: { blobTypes: ['blockBlob'], prefixMatch: ['${backupContainerName}/'] }
              actions: {
                baseBlob: { delete: { daysAfterModificationGreaterThan: backupRetentionDays } }
                version: { delete: { daysAfterCreationGreaterThan: backupRetentionDays } }
              }
            }
          }
          {
            name: 'expire-old-versions'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: { blobTypes: ['blockBlob'] }
              actions: {
                version: { delete: { daysAfterCreationGreaterThan: softDeleteDays } }
              }
            }
          }
        ]
      }
    }
    dependsOn: [blobServices]
  }
}

// The tables hold the only copy of every account: the account cannot be deleted (nor the resource group with it,
// `azd down` included) while the lock is there.
resource accountLock 'Microsoft.Authorization/locks@2020-05-01' = if (deletionProtection) {
  name: 'do-not-delete-accounts'
  scope: account
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the users, emails and revocations tables and their backups. Remove the lock deliberately before deleting.'
  }
}

// Who wrote or deleted what: the table and blob services' write and delete requests (reads are not logged: every
// protected call would be one).
var writesAndDeletes = [
  { category: 'StorageWrite', enabled: true }
  { category: 'StorageDelete', enabled: true }
]

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'table-writes-and-deletes'
  scope: account::tableServices
  properties: {
    workspaceId: workspaceId
    logs: writesAndDeletes
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'blob-writes-and-deletes'
  scope: account::blobServices
  properties: {
    workspaceId: workspaceId
    logs: writesAndDeletes
  }
}

// Storage Blob Data Owner: host storage, the deployment container and the backup container (the backup function
// writes exports; the retention policy, not the role, keeps it from changing them). The role also allows writing the
// container's immutability policy: until the policy is locked (README), the app identity could shorten it.
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageBlobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor: users, sessions, email index and login throttles.
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageTableDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
