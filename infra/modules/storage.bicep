// Storage account for the Functions host and the app's state: Tables (feeds, meetings, organizers,
// policies, runs, deploymentkeys), Blob (feed bodies, deployment package), Queue (sync-feeds + poison).
// Shared keys are off: everything, the host included, signs in with the managed identity.
param name string
param location string
param tags object = {}
@description('Blob container that Flex Consumption deploys the app package into.')
param deploymentContainerName string
@description('Log Analytics workspace that receives the storage logs (reads, writes, deletes of Blob, Queue and Table).')
param logAnalyticsWorkspaceId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }

  resource blobServices 'blobServices' = {
    name: 'default'
    properties: {
      // Feed bodies are versioned by the app itself; soft delete guards against an operator's mistake.
      deleteRetentionPolicy: { enabled: true, days: 7 }
    }
    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }
    resource feedBodies 'containers' = {
      name: 'feed-bodies'
      properties: { publicAccess: 'None' }
    }
  }

  resource queueServices 'queueServices' = {
    name: 'default'
    resource syncQueue 'queues' = { name: 'sync-feeds' }
    resource poisonQueue 'queues' = { name: 'sync-feeds-poison' }
  }

  // The app also creates these on first use; declaring them makes the deployment self-describing.
  resource tableServices 'tableServices' = {
    name: 'default'
    resource feeds 'tables' = { name: 'feeds' }
    resource meetings 'tables' = { name: 'meetings' }
    resource organizers 'tables' = { name: 'organizers' }
    resource policies 'tables' = { name: 'policies' }
    resource runs 'tables' = { name: 'runs' }
    // Per-deployment secrets (the organizer-calendar HMAC key); written by the app only.
    resource deploymentKeys 'tables' = { name: 'deploymentkeys' }
  }
}

// Storage logs per service (who read, wrote or deleted what, with status and latency: a throttled or
// refused storage shows here first) and the account's transaction metrics.
resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

var storageLogs = [
  { category: 'StorageRead', enabled: true }
  { category: 'StorageWrite', enabled: true }
  { category: 'StorageDelete', enabled: true }
]

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobServices
  properties: { workspaceId: logAnalyticsWorkspaceId, logs: storageLogs }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::queueServices
  properties: { workspaceId: logAnalyticsWorkspaceId, logs: storageLogs }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::tableServices
  properties: { workspaceId: logAnalyticsWorkspaceId, logs: storageLogs }
}

output name string = storage.name
output resourceId string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
