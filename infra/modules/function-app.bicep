// Flex Consumption plan + Linux function app (Node 20) running as the user-assigned identity.
// Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_NODE_DEFAULT_VERSION
// and WEBSITE_RUN_FROM_PACKAGE as app settings: runtime and package live in functionAppConfig instead.
param name string
param planName string
param location string
param tags object = {}
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
@description('Log Analytics workspace that receives the host\'s FunctionAppLogs.')
param logAnalyticsWorkspaceId string
param identityId string
param identityClientId string
@description('App settings of the app itself (see main.bicep); host settings are added here.')
param appSettings object
@description('PUBLIC_BASE_URL; empty = https://<default host name of the app>.')
param publicBaseUrl string = ''
param maximumInstanceCount int = 40
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Turn on App Service Authentication (Entra ID) in front of the HTTP routes.')
param enableAuth bool = false
@description('Client id of the Entra app registration that protects the API (its app roles include ADMIN_ROLE).')
param authClientId string = ''
@description('Paths that stay reachable without an Entra token (still need a function key), e.g. the published calendars.')
param authExcludedPaths array = []

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}
resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the app to deploy service `api` by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with this identity (the default would be a system-assigned one).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: '20' }
    }
  }
}

// settings-consistency:begin host settings (test/unit/settings-consistency.test.ts reads the keys)
var hostSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  PUBLIC_BASE_URL: empty(publicBaseUrl) ? 'https://${app.properties.defaultHostName}' : publicBaseUrl
  // V8's default lets the old generation grow to about four times what was live at its last full GC: a
  // 225,000-session feed peaked at 353-497 MB on defaults, 270-277 MB with this limit (docs/performance.md).
  // Two thirds of the instance leaves the rest for the young generation, code and native memory.
  languageWorkers__node__arguments: '--max-old-space-size=${instanceMemoryMB * 2 / 3}'
}
// settings-consistency:end

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(appSettings, hostSettings)
}

// App Service Authentication ("Easy Auth"): Entra ID tokens for the admin routes. The app still checks
// ADMIN_ROLE in x-ms-client-principal; function keys stay required on every route as well.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (enableAuth) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: authExcludedPaths
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: ['api://${authClientId}', authClientId]
        }
      }
    }
    login: {
      tokenStore: { enabled: false }
    }
  }
}

// The host's own log (starts, invocations, errors before any of the app's code runs) in the workspace,
// beside the app's events in Application Insights.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ category: 'FunctionAppLogs', enabled: true }]
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output uri string = 'https://${app.properties.defaultHostName}'
