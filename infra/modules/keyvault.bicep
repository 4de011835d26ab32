// Key Vault in RBAC mode holding the Graph credential. Preferred: a certificate imported as PEM
// (`az keyvault certificate import ... ` with content type application/x-pem-file); its secret of the same
// name then holds private key + certificate, which is what GRAPH_CERTIFICATE_PEM expects.
// Alternative: a client secret, stored here when `graphClientSecret` is given.
param name string
param location string
param tags object = {}
@description('Name of the secret (or certificate) that holds the Graph credential.')
param graphCredentialSecretName string
@secure()
@description('Client secret to store (only for graphCredentialKind = secret; leave empty to upload it yourself).')
param graphClientSecret string = ''
@description('Log Analytics workspace that receives the vault\'s audit log (every read of the credential).')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // A deleted vault (or credential) can be recovered for 7 days and not purged before: nobody, not even
    // an owner, can destroy the credential at once. Cannot be turned off again; `azd down` leaves the
    // vault soft-deleted (its name is unique per environment).
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource clientSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphClientSecret)) {
  parent: vault
  name: graphCredentialSecretName
  properties: {
    value: graphClientSecret
    contentType: 'text/plain'
  }
}

// Who read or changed the credential, when (AuditEvent), in the workspace.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ category: 'AuditEvent', enabled: true }]
  }
}

output name string = vault.name
output resourceId string = vault.id
output vaultUri string = vault.properties.vaultUri
// Versionless: the app follows rotation (App Service re-reads references within 24 h or on restart).
output graphCredentialSecretUri string = '${vault.properties.vaultUri}secrets/${graphCredentialSecretName}/'
