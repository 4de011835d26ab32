// timetable-sync: Flex Consumption function app + Storage + Key Vault + monitoring, deployed by `azd up`.
// Layout follows Azure-Samples/functions-quickstart-typescript-azd: subscription scope, one resource group,
// a user-assigned managed identity with data-plane roles, shared keys off.
//
// App settings: every entry of SETTINGS in src/config.ts that makes sense in Azure is a parameter here,
// with the code's default. test/unit/settings-consistency.test.ts keeps the lists in step.
// settings-consistency:local-only AzureWebJobsStorage, GRAPH_CA_CERT_FILE, GRAPH_CLIENT_ASSERTION_FILE
//   AzureWebJobsStorage          connection string for Azurite; in Azure the host uses AzureWebJobsStorage__accountName + identity
//   GRAPH_CA_CERT_FILE           extra CA for the local Graph emulator only
//   GRAPH_CLIENT_ASSERTION_FILE  a projected federated token file (Kubernetes workload identity); no such file on Functions
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used for the resource group and a unique resource token.')
param environmentName string

@minLength(1)
@description('Region for all resources (must offer Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying user: gets Storage data roles and Key Vault officer roles for local runs and uploads. Empty to skip.')
param principalId string = ''

param resourceGroupName string = ''
param maximumInstanceCount int = 40

// ---- Graph (app registration from infra/scripts/register-app.ps1) ----
@description('GRAPH_TENANT_ID: Entra tenant of the app registration (default: the deployment tenant).')
param graphTenantId string = tenant().tenantId
@description('GRAPH_CLIENT_ID: application (client) id of the `timetable-sync` app registration.')
param graphClientId string
@description('How the app signs in to Graph: federated = the function app\'s managed identity is a federated credential of the app registration (nothing secret to store or rotate; the postprovision hook adds it), certificate = a PEM certificate in Key Vault, secret = a client secret in Key Vault.')
@allowed(['federated', 'certificate', 'secret'])
param graphCredentialKind string = 'federated'
@description('certificate or secret: the credential is in Key Vault now (after `az keyvault certificate import`, or a secret set there by hand). Until then the app runs without Graph (admin routes, health) instead of referencing a secret that does not exist. A graphClientSecret given here counts as stored.')
param graphCredentialStored bool = false
@description('Name of the Key Vault secret/certificate with the Graph credential.')
param graphCredentialSecretName string = 'graph-credential'
@secure()
@description('Client secret to store in Key Vault (graphCredentialKind = secret only; empty = upload it yourself).')
param graphClientSecret string = ''
@description('GRAPH_CERTIFICATE_THUMBPRINT_SHA256: SHA-256 thumbprint (hex) of the certificate (printed by register-app.ps1).')
param graphCertificateThumbprintSha256 string = ''
@description('GRAPH_CLOUD: Microsoft cloud of the tenant (global, usgov = US Government L4, usgovdod = L5/DoD). The China (21Vianet) cloud has no onlineMeetings create/update/delete APIs.')
@allowed(['global', 'usgov', 'usgovdod'])
param graphCloud string = 'global'
@description('GRAPH_AUTHORITY_HOST (empty = the GRAPH_CLOUD\'s authority)')
param graphAuthorityHost string = ''
@description('GRAPH_BASE_URL (empty = the GRAPH_CLOUD\'s Graph)')
param graphBaseUrl string = ''

// ---- Sync ----
@description('SYNC_SCHEDULE: NCRONTAB schedule of the fan-out timer.')
param syncSchedule string = '0 */15 * * * *'
@description('ATTENDANCE_SCHEDULE: NCRONTAB schedule of the attendance timer.')
param attendanceSchedule string = '0 7-59/15 * * * *'
@minValue(0)
@description('ATTENDANCE_DELAY_MINUTES: minutes after a session ends before its attendance report is first asked for.')
param attendanceDelayMinutes int = 15
@minValue(1)
@description('ATTENDANCE_WINDOW_HOURS: hours a missing attendance report is waited for before the session is reported as never held.')
param attendanceWindowHours int = 48
@minValue(1)
@description('ATTENDANCE_RETENTION_DAYS: days attendance records are kept after their session.')
param attendanceRetentionDays int = 365
@minValue(1)
@maxValue(400)
@description('HORIZON_DAYS: how many days ahead sessions get meetings.')
param horizonDays int = 120
@description('DEFAULT_TIME_ZONE: IANA or Windows zone for floating times; empty = skip such sessions with a reason.')
param defaultTimeZone string = ''
@description('MAX_CANCEL_SHARE: share (0..1, as text: Bicep has no decimals) of future meetings one run may cancel before the deletion guard holds.')
param maxCancelShare string = '0.2'
@minValue(1)
@description('GUARD_MIN_CANCELS: fewer cancellations than this never trip the share rule.')
param guardMinCancels int = 3
@description('MAX_CREATE_GROWTH: new meetings one run may add, as a multiple (as text: Bicep has no decimals) of the feed\'s future meetings, before the creation guard holds them.')
param maxCreateGrowth string = '1'
@minValue(1)
@description('GUARD_MIN_CREATES: fewer new meetings than this never trip the creation guard\'s growth and lecturer rules.')
param guardMinCreates int = 500
@minValue(1)
@description('GUARD_MAX_EVENT_SESSIONS: new meetings one event (UID) may add in one run before the creation guard holds its sessions.')
param guardMaxEventSessions int = 1000
@allowed(['delete', 'lock'])
@description('CANCEL_MODE')
param cancelMode string = 'delete'
@minValue(1)
@maxValue(16)
@description('PER_ORGANIZER_CONCURRENCY')
param perOrganizerConcurrency int = 4
@minValue(1)
@maxValue(256)
@description('MAX_CONCURRENCY: Graph requests in flight per instance (AIMD on 429).')
param maxConcurrency int = 16
@minValue(10)
@maxValue(3600)
@description('RUN_BUDGET_SECONDS: time budget of one feed sync (keep below host.json functionTimeout, 10 min).')
param runBudgetSeconds int = 480
@minValue(0)
@description('ORGANIZER_CACHE_HOURS')
param organizerCacheHours int = 24
@minValue(1)
@maxValue(100000)
@description('ORGANIZER_MONTHLY_LIMIT: new meetings per lecturer per UTC month at most (Graph allows 2,000 per user).')
param organizerMonthlyLimit int = 2000
@description('MAX_FEED_BYTES')
param maxFeedBytes int = 10485760
@description('ALLOW_HTTP_FEEDS: development only; keep false in Azure.')
param allowHttpFeeds bool = false

// ---- Teams application access policy ----
@description('POLICY_NAME: the Teams application access policy holding this app id.')
param policyName string = 'TimetableSync-OnlineMeetings'
@minValue(1)
@description('POLICY_PROPAGATION_MINUTES: after a recorded grant, a policy 403 counts as propagation for this long (Microsoft: up to 30 min).')
param policyPropagationMinutes int = 60
@minValue(1)
@description('POLICY_PROBE_HOURS: how often an organizer without a policy is tried again.')
param policyProbeHours int = 6
@description('POLICY_GLOBAL_GRANTED_AT: ISO time of a tenant-wide Grant-CsApplicationAccessPolicy -Global, if one was run.')
param policyGlobalGrantedAt string = ''

// ---- Meetings, API ----
@allowed(['organizer', 'organization', 'organizationAndFederated', 'everyone'])
@description('MEETING_LOBBY_BYPASS')
param meetingLobbyBypass string = 'organization'
@allowed(['organizer', 'organization', 'everyone'])
@description('MEETING_ALLOWED_PRESENTERS')
param meetingAllowedPresenters string = 'organizer'
@description('ADMIN_ROLE: Entra app role required on admin routes when App Service Authentication is on.')
param adminRole string = 'TimetableSync.Admin'
@description('PUBLIC_BASE_URL: public https base URL of the app (custom domain); empty = the app\'s default host name.')
param publicBaseUrl string = ''

// ---- App Service Authentication (Easy Auth), optional ----
@description('Require Entra ID tokens (App Service Authentication) on HTTP routes, in addition to function keys.')
param enableAppServiceAuth bool = false
@description('Client id of the Entra app registration that represents the API (defines the ADMIN_ROLE app role). Required when enableAppServiceAuth.')
param authClientId string = ''
@description('Routes left open to function-key callers without an Entra token: calendar clients cannot sign in.')
param authExcludedPaths array = ['/api/calendars', '/api/health']

// ---- Alerts, optional ----
@description('Deploy the scheduled query alerts of infra/monitoring/alerts.bicep.')
param enableAlerts bool = false
@description('E-mail address of the action group that receives the alerts.')
param alertEmail string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-api-${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    graphCredentialSecretName: graphCredentialSecretName
    graphClientSecret: graphCredentialKind == 'secret' ? graphClientSecret : ''
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    managedIdentityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

// Key Vault reference: the secret never appears in the deployment or in app settings.
var graphCredentialReference = '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.graphCredentialSecretUri})'
// Graph settings are set only once the credential exists: a reference to a secret that is not there yet
// would make every start fail. Until then the app runs without Graph (GET /api/health says graph: not configured).
var graphCredentialInVault = graphCredentialKind != 'federated' && (graphCredentialStored || (graphCredentialKind == 'secret' && !empty(graphClientSecret)))
var graphReady = graphCredentialKind == 'federated' || graphCredentialInVault

// settings-consistency:begin app settings (one key per line; test/unit/settings-consistency.test.ts reads the keys)
var appSettings = {
  GRAPH_TENANT_ID: graphReady ? graphTenantId : ''
  GRAPH_CLIENT_ID: graphReady ? graphClientId : ''
  GRAPH_CLIENT_SECRET: graphReady && graphCredentialKind == 'secret' ? graphCredentialReference : ''
  GRAPH_CERTIFICATE_PEM: graphReady && graphCredentialKind == 'certificate' ? graphCredentialReference : ''
  GRAPH_CERTIFICATE_THUMBPRINT_SHA256: graphCredentialKind == 'certificate' ? graphCertificateThumbprintSha256 : ''
  GRAPH_FEDERATED_IDENTITY_CLIENT_ID: graphReady && graphCredentialKind == 'federated' ? identity.outputs.clientId : ''
  GRAPH_CLOUD: graphCloud
  GRAPH_AUTHORITY_HOST: graphAuthorityHost
  GRAPH_BASE_URL: graphBaseUrl
  SYNC_SCHEDULE: syncSchedule
  HORIZON_DAYS: string(horizonDays)
  ATTENDANCE_SCHEDULE: attendanceSchedule
  ATTENDANCE_DELAY_MINUTES: string(attendanceDelayMinutes)
  ATTENDANCE_WINDOW_HOURS: string(attendanceWindowHours)
  ATTENDANCE_RETENTION_DAYS: string(attendanceRetentionDays)
  DEFAULT_TIME_ZONE: defaultTimeZone
  POLICY_NAME: policyName
  POLICY_PROPAGATION_MINUTES: string(policyPropagationMinutes)
  POLICY_PROBE_HOURS: string(policyProbeHours)
  POLICY_GLOBAL_GRANTED_AT: policyGlobalGrantedAt
  MAX_CANCEL_SHARE: maxCancelShare
  GUARD_MIN_CANCELS: string(guardMinCancels)
  MAX_CREATE_GROWTH: maxCreateGrowth
  GUARD_MIN_CREATES: string(guardMinCreates)
  GUARD_MAX_EVENT_SESSIONS: string(guardMaxEventSessions)
  CANCEL_MODE: cancelMode
  PER_ORGANIZER_CONCURRENCY: string(perOrganizerConcurrency)
  MAX_CONCURRENCY: string(maxConcurrency)
  RUN_BUDGET_SECONDS: string(runBudgetSeconds)
  ORGANIZER_CACHE_HOURS: string(organizerCacheHours)
  ORGANIZER_MONTHLY_LIMIT: string(organizerMonthlyLimit)
  MAX_FEED_BYTES: string(maxFeedBytes)
  ALLOW_HTTP_FEEDS: allowHttpFeeds ? 'true' : 'false'
  MEETING_LOBBY_BYPASS: meetingLobbyBypass
  MEETING_ALLOWED_PRESENTERS: meetingAllowedPresenters
  ADMIN_ROLE: adminRole
}
// settings-consistency:end
// AzureWebJobsStorage__*, APPLICATIONINSIGHTS_* and PUBLIC_BASE_URL are set in modules/function-app.bicep
// (they need the app's own resources).

module api 'modules/function-app.bicep' = {
  name: 'api'
  scope: rg
  dependsOn: [rbac] // the host needs its Storage roles before it starts
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    appSettings: appSettings
    publicBaseUrl: publicBaseUrl
    maximumInstanceCount: maximumInstanceCount
    enableAuth: enableAppServiceAuth
    authClientId: authClientId
    authExcludedPaths: authExcludedPaths
  }
}

module alerts 'monitoring/alerts.bicep' = if (enableAlerts) {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmail: alertEmail
    policyPropagationMinutes: policyPropagationMinutes
    policyProbeHours: policyProbeHours
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output GRAPH_CREDENTIAL_SECRET_NAME string = graphCredentialSecretName
output GRAPH_CREDENTIAL_READY bool = graphReady
// The postprovision hook makes this identity a federated credential of the app registration (federated kind).
output AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.logAnalyticsId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
