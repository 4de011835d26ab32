#Requires -Version 7.2
#Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Applications
<#
.SYNOPSIS
    Creates (or reuses) the Entra app registration `timetable-sync` that the daemon signs in as.

.DESCRIPTION
    Idempotent: run it again at any time (for example with a renewed certificate).
      1. Finds the application by display name, or creates it (single tenant).
      2. Adds the Microsoft Graph application permissions OnlineMeetings.ReadWrite.All and
         User.Read.All to its required resource access (keeps any others).
      3. Uploads the public certificate from -CertificatePath unless the same thumbprint is present.
      4. Creates the service principal if missing.
      5. Prints the admin consent URL (or, with -GrantAdminConsent, assigns the app roles directly).
    Prints the values the deployment needs (azd env set ...): GRAPH_CLIENT_ID, and with -CertificatePath
    GRAPH_CREDENTIAL_KIND certificate and GRAPH_CERTIFICATE_THUMBPRINT_SHA256. Without a certificate the
    deployment uses the federated credential: azd's postprovision hook adds the function app's managed
    identity to this application, so no secret or certificate exists at all.

    With a certificate, the private key never passes through this script: import the PEM (private key +
    certificate) into the Key Vault that infra/main.bicep creates, under GRAPH_CREDENTIAL_SECRET_NAME.

    OnlineMeetings.ReadWrite.All with application permissions also needs a Teams application access
    policy per lecturer: see grant-access-policy.ps1.

.PARAMETER CertificatePath
    Public certificate (.cer DER, or .pem/.crt with "BEGIN CERTIFICATE"). No private key needed.

.PARAMETER Cloud
    Microsoft cloud of the tenant: Global (default), USGov (US Government L4, GCC High) or USGovDoD
    (L5, DoD); passed to Connect-MgGraph -Environment and used for the admin consent URL. The deployment's
    GRAPH_CLOUD must name the same cloud (usgov / usgovdod). The China (21Vianet) cloud has no
    onlineMeetings create/update/delete APIs, so it is not offered.

.EXAMPLE
    ./register-app.ps1 -TenantId northbridge.example -GrantAdminConsent
.EXAMPLE
    ./register-app.ps1 -TenantId northbridge.example -CertificatePath ./timetable-sync.cer -WhatIf
.EXAMPLE
    ./register-app.ps1 -TenantId northbridge.example -CertificatePath ./timetable-sync.cer -GrantAdminConsent
.EXAMPLE
    ./register-app.ps1 -TenantId northbridge.onmicrosoft.us -CertificatePath ./timetable-sync.cer -Cloud USGov
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $DisplayName = 'timetable-sync',

    [string] $TenantId,

    [ValidateScript({ Test-Path -LiteralPath $_ -PathType Leaf })]
    [string] $CertificatePath,

    # Assign the app roles now (needs AppRoleAssignment.ReadWrite.All and a Privileged Role Administrator
    # or Global Administrator) instead of printing the consent URL for someone else to open.
    [switch] $GrantAdminConsent,

    # Microsoft cloud of the tenant (Connect-MgGraph -Environment).
    [ValidateSet('Global', 'USGov', 'USGovDoD')]
    [string] $Cloud = 'Global',

    # Use the current Connect-MgGraph session as it is.
    [switch] $SkipConnect
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$GraphResourceAppId = '00000003-0000-0000-c000-000000000000' # Microsoft Graph
$Cloud = @('Global', 'USGov', 'USGovDoD') | Where-Object { $_ -eq $Cloud } # the spelling Connect-MgGraph lists
# Entra authority and the daemon's GRAPH_CLOUD per cloud (src/graph/clouds.ts).
$CloudSettings = @{
    Global   = @{ Authority = 'https://login.microsoftonline.com'; GraphCloud = 'global' }
    USGov    = @{ Authority = 'https://login.microsoftonline.us'; GraphCloud = 'usgov' }
    USGovDoD = @{ Authority = 'https://login.microsoftonline.us'; GraphCloud = 'usgovdod' }
}[$Cloud]
$RequiredAppRoles = [ordered]@{
    'OnlineMeetings.ReadWrite.All' = 'b8bb2037-6e08-44ac-a4ea-4674e010e2a4'
    'User.Read.All'                = 'df021288-bdef-4463-88db-98f22de89214'
}

if (-not $SkipConnect) {
    $scopes = @('Application.ReadWrite.All')
    if ($GrantAdminConsent) { $scopes += 'AppRoleAssignment.ReadWrite.All' }
    $connect = @{ Scopes = $scopes; Environment = $Cloud; NoWelcome = $true }
    if ($TenantId) { $connect.TenantId = $TenantId }
    Connect-MgGraph @connect
}
$context = Get-MgContext
if (-not $context) { throw 'Not connected to Microsoft Graph (run Connect-MgGraph or drop -SkipConnect).' }
$tenant = $context.TenantId

# ---- 1. application -------------------------------------------------------------------------------
$escapedName = $DisplayName.Replace("'", "''")
$apps = @(Get-MgApplication -Filter "displayName eq '$escapedName'" -All)
if ($apps.Count -gt 1) {
    throw "Found $($apps.Count) applications named '$DisplayName'; delete the extras or pass another -DisplayName."
}
$app = $apps | Select-Object -First 1

function Get-GraphResourceAccess {
    # The app's required resource access on Microsoft Graph with our roles added (others kept as they are).
    param($Existing)
    $result = [System.Collections.Generic.List[object]]::new()
    $graphEntry = $null
    foreach ($entry in @($Existing)) {
        if (-not $entry) { continue }
        $access = @($entry.ResourceAccess | ForEach-Object { @{ Id = $_.Id; Type = $_.Type } })
        $copy = @{ ResourceAppId = $entry.ResourceAppId; ResourceAccess = [System.Collections.Generic.List[object]]::new($access) }
        if ($entry.ResourceAppId -eq $GraphResourceAppId) { $graphEntry = $copy }
        $result.Add($copy)
    }
    if (-not $graphEntry) {
        $graphEntry = @{ ResourceAppId = $GraphResourceAppId; ResourceAccess = [System.Collections.Generic.List[object]]::new() }
        $result.Add($graphEntry)
    }
    $added = 0
    foreach ($roleId in $RequiredAppRoles.Values) {
        if (-not ($graphEntry.ResourceAccess | Where-Object { $_.Id -eq $roleId -and $_.Type -eq 'Role' })) {
            $graphEntry.ResourceAccess.Add(@{ Id = $roleId; Type = 'Role' })
            $added++
        }
    }
    # The SDK binds plain arrays of hashtables most reliably.
    $access = @($result | ForEach-Object { @{ ResourceAppId = $_.ResourceAppId; ResourceAccess = @($_.ResourceAccess) } })
    [pscustomobject]@{ Access = $access; Added = $added }
}

if (-not $app) {
    $access = Get-GraphResourceAccess -Existing @()
    if ($PSCmdlet.ShouldProcess($DisplayName, 'Create application registration (single tenant) with Graph application permissions')) {
        $app = New-MgApplication -DisplayName $DisplayName -SignInAudience 'AzureADMyOrg' -RequiredResourceAccess $access.Access
        Write-Host "Created application '$DisplayName' (appId $($app.AppId))."
    }
    else {
        Write-Host "Would create application '$DisplayName'; the remaining steps need it, stopping here."
        return
    }
}
else {
    Write-Host "Using existing application '$DisplayName' (appId $($app.AppId))."
    $access = Get-GraphResourceAccess -Existing $app.RequiredResourceAccess
    if ($access.Added -gt 0) {
        if ($PSCmdlet.ShouldProcess($DisplayName, "Add $($access.Added) Microsoft Graph application permission(s)")) {
            Update-MgApplication -ApplicationId $app.Id -RequiredResourceAccess $access.Access
        }
    }
    else {
        Write-Host 'Graph permissions already requested.'
    }
}

# ---- 2. certificate -------------------------------------------------------------------------------
$thumbprintSha256 = $null
if ($CertificatePath) {
    $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new((Resolve-Path -LiteralPath $CertificatePath).Path)
    $thumbprintSha256 = $certificate.GetCertHashString([System.Security.Cryptography.HashAlgorithmName]::SHA256).ToLowerInvariant()
    $existingKeys = @((Get-MgApplication -ApplicationId $app.Id -Property keyCredentials).KeyCredentials)
    # Graph sets customKeyIdentifier to the SHA-1 thumbprint of an uploaded certificate.
    $present = $existingKeys | Where-Object {
        $_.CustomKeyIdentifier -and ([System.Convert]::ToHexString($_.CustomKeyIdentifier) -eq $certificate.Thumbprint)
    }
    if ($present) {
        Write-Host "Certificate $($certificate.Thumbprint) is already on the application."
    }
    elseif ($PSCmdlet.ShouldProcess($DisplayName, "Upload certificate $($certificate.Subject) (expires $($certificate.NotAfter.ToString('yyyy-MM-dd')))")) {
        # PATCH replaces the whole collection: send the existing credentials (by keyId) plus the new one.
        $keys = @($existingKeys | Where-Object { $_ } | ForEach-Object {
                @{
                    KeyId = $_.KeyId; Type = $_.Type; Usage = $_.Usage; DisplayName = $_.DisplayName
                    CustomKeyIdentifier = $_.CustomKeyIdentifier; StartDateTime = $_.StartDateTime; EndDateTime = $_.EndDateTime
                }
            })
        $keys += @{
            Type          = 'AsymmetricX509Cert'
            Usage         = 'Verify'
            Key           = $certificate.RawData
            DisplayName   = $certificate.Subject
            StartDateTime = $certificate.NotBefore.ToUniversalTime()
            EndDateTime   = $certificate.NotAfter.ToUniversalTime()
        }
        Update-MgApplication -ApplicationId $app.Id -KeyCredentials $keys
        Write-Host "Uploaded certificate $($certificate.Thumbprint)."
    }
    if ($certificate.NotAfter -lt (Get-Date).AddDays(30)) {
        Write-Warning "The certificate expires on $($certificate.NotAfter.ToString('yyyy-MM-dd')); renew it soon."
    }
}

# ---- 3. service principal -------------------------------------------------------------------------
$servicePrincipal = Get-MgServicePrincipal -Filter "appId eq '$($app.AppId)'" | Select-Object -First 1
if (-not $servicePrincipal) {
    if ($PSCmdlet.ShouldProcess($DisplayName, 'Create service principal')) {
        $servicePrincipal = New-MgServicePrincipal -AppId $app.AppId
        Write-Host "Created service principal $($servicePrincipal.Id)."
    }
}
else {
    Write-Host "Service principal $($servicePrincipal.Id) exists."
}

# ---- 4. admin consent -----------------------------------------------------------------------------
$consentUrl = "$($CloudSettings.Authority)/$tenant/adminconsent?client_id=$($app.AppId)"
if ($GrantAdminConsent -and $servicePrincipal) {
    $graphServicePrincipal = Get-MgServicePrincipal -Filter "appId eq '$GraphResourceAppId'" | Select-Object -First 1
    $assigned = @(Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $servicePrincipal.Id -All |
            Where-Object { $_.ResourceId -eq $graphServicePrincipal.Id } | ForEach-Object { $_.AppRoleId })
    foreach ($role in $RequiredAppRoles.GetEnumerator()) {
        if ($assigned -contains $role.Value) {
            Write-Host "$($role.Key) already granted."
        }
        elseif ($PSCmdlet.ShouldProcess($DisplayName, "Grant Microsoft Graph application permission $($role.Key)")) {
            New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $servicePrincipal.Id -PrincipalId $servicePrincipal.Id `
                -ResourceId $graphServicePrincipal.Id -AppRoleId $role.Value | Out-Null
            Write-Host "Granted $($role.Key)."
        }
    }
}
else {
    Write-Host "An administrator must consent to the application permissions: $consentUrl"
}

Write-Host ''
Write-Host 'Next:'
Write-Host "  azd env set GRAPH_CLIENT_ID $($app.AppId)"
if ($Cloud -ne 'Global') { Write-Host "  azd env set GRAPH_CLOUD $($CloudSettings.GraphCloud)" }
if ($thumbprintSha256) {
    Write-Host '  azd env set GRAPH_CREDENTIAL_KIND certificate'
    Write-Host "  azd env set GRAPH_CERTIFICATE_THUMBPRINT_SHA256 $thumbprintSha256"
}
Write-Host '  azd up        (federated credential by default: the function app signs in with its managed identity)'
$cloudArgument = if ($Cloud -ne 'Global') { " -Cloud $Cloud" } else { '' }
Write-Host "  ./grant-access-policy.ps1 -AppId $($app.AppId)$cloudArgument ...   (Teams application access policy per lecturer)"

[pscustomobject]@{
    TenantId                    = $tenant
    AppId                       = $app.AppId
    ApplicationObjectId         = $app.Id
    ServicePrincipalId          = if ($servicePrincipal) { $servicePrincipal.Id } else { $null }
    CertificateThumbprintSha256 = $thumbprintSha256
    AdminConsentUrl             = $consentUrl
}
