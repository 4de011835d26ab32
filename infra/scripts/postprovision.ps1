#Requires -Version 7.2
<#
.SYNOPSIS
    azd postprovision hook: lets the function app sign in to Graph.

.DESCRIPTION
    GRAPH_CREDENTIAL_KIND = federated (default): adds the function app's user-assigned managed identity
    (AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID, an output of main.bicep) as a federated identity credential of
    the app registration GRAPH_CLIENT_ID, so the app needs no secret or certificate. Idempotent: nothing is
    added when a credential with that subject exists. Needs the Azure CLI signed in as an owner of the app
    registration (the person who ran register-app.ps1 is one); without it, prints the command to run.

    certificate / secret: prints what is left before the app can reach Graph (import the credential into
    Key Vault, then `azd env set GRAPH_CREDENTIAL_STORED true` and `azd provision`).
#>
$ErrorActionPreference = 'Stop'

$kind = if ($env:GRAPH_CREDENTIAL_KIND) { $env:GRAPH_CREDENTIAL_KIND } else { 'federated' }
$cloud = if ($env:GRAPH_CLOUD) { $env:GRAPH_CLOUD } else { 'global' }

if ($kind -ne 'federated') {
    if ($env:GRAPH_CREDENTIAL_READY -eq 'true') {
        Write-Host "Graph credential ($kind) is in Key Vault $($env:AZURE_KEY_VAULT_NAME)."
        return
    }
    Write-Host "The app runs without Graph until its $kind is in Key Vault (GET /api/health says graph: not configured):"
    if ($kind -eq 'certificate') {
        Write-Host "  az keyvault certificate import --vault-name $($env:AZURE_KEY_VAULT_NAME) -n $($env:GRAPH_CREDENTIAL_SECRET_NAME) -f cert-and-key.pem --policy '{`"secretProperties`":{`"contentType`":`"application/x-pem-file`"}}'"
    } else {
        Write-Host "  az keyvault secret set --vault-name $($env:AZURE_KEY_VAULT_NAME) -n $($env:GRAPH_CREDENTIAL_SECRET_NAME) --value <client secret>"
    }
    Write-Host '  azd env set GRAPH_CREDENTIAL_STORED true'
    Write-Host '  azd provision'
    return
}

$appId = $env:GRAPH_CLIENT_ID
$subject = $env:AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID
$tenant = $env:AZURE_TENANT_ID
if (-not $appId -or -not $subject -or -not $tenant) {
    throw 'GRAPH_CLIENT_ID, AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID and AZURE_TENANT_ID must be set (azd env set GRAPH_CLIENT_ID <appId>; the others come from the deployment)'
}
# Issuer and audience of the managed identity's token in this cloud (Entra token exchange).
$issuerHost, $audience = switch ($cloud) {
    'usgov' { 'https://login.microsoftonline.us', 'api://AzureADTokenExchangeUSGov' }
    'usgovdod' { 'https://login.microsoftonline.us', 'api://AzureADTokenExchangeUSGov' }
    default { 'https://login.microsoftonline.com', 'api://AzureADTokenExchange' }
}
$credential = [ordered]@{
    name        = "timetable-sync-$($env:AZURE_ENV_NAME)"
    issuer      = "$issuerHost/$tenant/v2.0"
    subject     = $subject
    audiences   = @($audience)
    description = 'The timetable-sync function app (its user-assigned managed identity) signs in as this app.'
}
$parameters = $credential | ConvertTo-Json -Compress
$command = "az ad app federated-credential create --id $appId --parameters '$parameters'"

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Write-Host 'Azure CLI not found. Make the function app a credential of the app registration:'
    Write-Host "  $command"
    return
}
$existing = az ad app federated-credential list --id $appId --query "[?subject=='$subject'] | length(@)" -o tsv
if ($LASTEXITCODE -ne 0) {
    Write-Host "Could not read the app registration's credentials (sign in with az login as its owner), then run:"
    Write-Host "  $command"
    return
}
if ([int]$existing -gt 0) {
    Write-Host "Federated credential for the function app's identity ($subject) is already on app $appId."
    return
}
az ad app federated-credential create --id $appId --parameters $parameters --output none
if ($LASTEXITCODE -ne 0) { throw "could not add the federated credential; run: $command" }
Write-Host "Added federated credential '$($credential.name)' to app $appId: the function app signs in with its managed identity."
