#Requires -Version 7.2
<#
.SYNOPSIS
    azd postdeploy hook: checks GET /api/health and prints where the admin page is and how to read the
    function key it asks for.

.DESCRIPTION
    Retries for up to 3 minutes while the new deployment starts. Fails the deployment when the app never
    answers healthy, printing its last answer ({healthy, storage, graph}: graph "failed" means the
    credential, see docs/runbook.md, graph.credential.rejected).
#>
$ErrorActionPreference = 'Stop'

$base = $env:SERVICE_API_URI
if (-not $base) { throw 'SERVICE_API_URI is not set (an output of infra/main.bicep)' }
$health = "$base/api/health"
$last = $null
for ($attempt = 1; $attempt -le 18; $attempt++) {
    try {
        $response = Invoke-WebRequest -Uri $health -TimeoutSec 20 -SkipHttpErrorCheck
        $last = "$($response.StatusCode) $($response.Content)"
        if ($response.StatusCode -eq 200) { break }
    } catch {
        $last = $_.Exception.Message
    }
    Start-Sleep -Seconds 10
}
Write-Host "GET $health -> $last"
if (-not $last -or -not $last.StartsWith('200')) {
    throw 'the app is not healthy: see the answer above and docs/runbook.md'
}
Write-Host ''
Write-Host "Admin page:   $base/api/manage"
Write-Host 'Function key: az functionapp keys list --resource-group' $env:AZURE_RESOURCE_GROUP '--name' $env:AZURE_FUNCTION_NAME '--query functionKeys.default --output tsv'
if ($env:GRAPH_CREDENTIAL_READY -ne 'true') {
    Write-Host 'Graph is not configured yet: the credential is not in Key Vault (see the postprovision message).'
}
