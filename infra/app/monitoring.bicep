param logAnalyticsName string
param appInsightsName string
param location string
param tags { *: string }
@description('Principal id of the app identity, allowed to publish telemetry with Entra ID; its secret reads are the expected ones.')
param principalId string
@description('Days Log Analytics keeps logs (the audit trail included).')
param retentionDays int
@description('Name of the Key Vault whose secret reads are watched.')
param keyVaultName string
@description('Email address that alerts go to; empty: alerts show in the portal only.')
param alertEmail string

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionDays
    // Entra ID only: no workspace key can write or query.
    features: { disableLocalAuth: true }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Entra ID only: the connection string alone cannot write telemetry.
    DisableLocalAuth: true
  }
}

// Monitoring Metrics Publisher: the app identity sends telemetry.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource alertReceivers 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${appInsightsName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'authalerts'
    enabled: true
    emailReceivers: [{ name: 'operators', emailAddress: alertEmail, useCommonAlertSchema: true }]
  }
}

// The app reads its secrets through Key Vault references, as its own identity. A secret read (SecretGet) by any other
// principal, an operator running scripts/rotate-signing-key included, is worth a look: the signing key is the one
// secret that lets its holder mint tokens. The caller's object id is in one of two columns depending on the token;
// a read whose caller cannot be told alerts too.
var secretReadsByOthers = '''
AzureDiagnostics
| where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent" and OperationName == "SecretGet"
| where Resource =~ "{0}"
| extend CallerObjectId = coalesce(tostring(column_ifexists("identity_claim_oid_g", "")), tostring(column_ifexists("identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g", "")))
| where CallerObjectId != "{1}"
| project TimeGenerated, CallerObjectId, CallerIPAddress, SecretUri = tostring(column_ifexists("id_s", "")), ResultSignature
'''

resource secretReadAlert 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'key-vault-secret-read-by-others-${keyVaultName}'
  location: location
  tags: tags
  properties: {
    displayName: 'Key Vault secret read by a principal other than the app'
    description: 'A SecretGet on the vault by anyone but the function app\'s identity (an operator rotating keys, or an intruder).'
    severity: 1
    enabled: true
    scopes: [workspace.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: format(secretReadsByOthers, keyVaultName, principalId)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    actions: { actionGroups: empty(alertEmail) ? [] : [alertReceivers.id] }
  }
}

output connectionString string = appInsights.properties.ConnectionString
output workspaceId string = workspace.id
