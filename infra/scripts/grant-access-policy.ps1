#Requires -Version 7.2
#Requires -Modules MicrosoftTeams
<#
.SYNOPSIS
    Lets timetable-sync create Teams meetings on behalf of lecturers: Teams application access policy
    with the app id, granted per lecturer (or tenant-wide), each grant recorded in timetable-sync.

.DESCRIPTION
    Idempotent: safe to run again.
      1. Connect-MicrosoftTeams (unless -SkipConnect), in the -Cloud of the tenant.
      2. Creates the policy with New-CsApplicationAccessPolicy if missing, or adds the app id to it with
         Set-CsApplicationAccessPolicy -AppIds @{Add=...}. A user holds one application access policy and
         a new grant replaces the old one, so every app lives in this one policy.
      3. Grants it (Grant-CsApplicationAccessPolicy) to
           -UsersCsv   a CSV with a column objectId or email (UPN), or
           -ApiBaseUrl the organizers that timetable-sync reports as lacking the policy
                       (GET /api/policies/script?format=json), or
           -Global     everyone without a policy of their own.
         Users who already hold the policy are skipped (Get-CsOnlineUser ... ApplicationAccessPolicy).
      4. Records each new grant in timetable-sync (POST /api/policies/grants with the function key) when
         -ApiBaseUrl is given, so the daemon treats the next 403s as propagation and retries with back-off
         instead of reporting the lecturer as missing. Without -ApiBaseUrl it prints the CLI commands.

    Microsoft: changes take up to 30 minutes to reach Microsoft Graph (reports of longer are common).
    timetable-sync's POLICY_PROPAGATION_MINUTES (default 60) is how long it keeps retrying after a grant.

.EXAMPLE
    ./grant-access-policy.ps1 -AppId 11111111-2222-3333-4444-555555555555 -UsersCsv ./lecturers.csv -WhatIf
.EXAMPLE
    ./grant-access-policy.ps1 -AppId $appId -ApiBaseUrl https://func-api-xyz.azurewebsites.net -FunctionKey $key
.EXAMPLE
    ./grant-access-policy.ps1 -AppId $appId -Global -ApiBaseUrl https://func-api-xyz.azurewebsites.net -FunctionKey $key
.EXAMPLE
    ./grant-access-policy.ps1 -AppId $appId -Cloud USGov -ApiBaseUrl https://func-api-xyz.azurewebsites.us -FunctionKey $key
#>
[CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Api')]
param(
    # Application (client) id of the timetable-sync app registration. In Api mode it may come from the API.
    [ValidatePattern('^[0-9a-fA-F-]{36}$')]
    [string] $AppId,

    # POLICY_NAME of the deployment.
    [ValidatePattern('^[A-Za-z0-9._-]{1,64}$')]
    [string] $PolicyName = 'TimetableSync-OnlineMeetings',

    [Parameter(Mandatory, ParameterSetName = 'Csv')]
    [ValidateScript({ Test-Path -LiteralPath $_ -PathType Leaf })]
    [string] $UsersCsv,

    [Parameter(Mandatory, ParameterSetName = 'Global')]
    [switch] $Global,

    # Base URL of the function app (https://<app>.azurewebsites.net). Required in Api mode; optional
    # otherwise, where it is used only to record the grants.
    [Parameter(Mandatory, ParameterSetName = 'Api')]
    [Parameter(ParameterSetName = 'Csv')]
    [Parameter(ParameterSetName = 'Global')]
    [string] $ApiBaseUrl,

    # Function key (or host key) for the admin API; defaults to $env:TIMETABLE_SYNC_FUNCTION_KEY.
    [string] $FunctionKey = $env:TIMETABLE_SYNC_FUNCTION_KEY,

    # Microsoft cloud of the tenant: Global (default), USGov (GCC High) or USGovDoD (DoD); the same cloud as
    # the deployment's GRAPH_CLOUD. Mapped to Connect-MicrosoftTeams -TeamsEnvironmentName TeamsGCCH / TeamsDOD.
    [ValidateSet('Global', 'USGov', 'USGovDoD')]
    [string] $Cloud = 'Global',

    [switch] $SkipConnect
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ApiBaseUrl = if ($ApiBaseUrl) { $ApiBaseUrl.TrimEnd('/') } else { $null }
if ($ApiBaseUrl -and -not $FunctionKey) {
    throw 'Give -FunctionKey (or set TIMETABLE_SYNC_FUNCTION_KEY) to call the admin API.'
}
$apiHeaders = @{ 'x-functions-key' = $FunctionKey }

function Get-Property {
    # Value of the first of $Names present on $Object (PSCustomObject from JSON/CSV), else $null.
    param($Object, [string[]] $Names)
    foreach ($name in $Names) {
        $property = $Object.PSObject.Properties[$name]
        if ($property -and $null -ne $property.Value -and "$($property.Value)" -ne '') { return "$($property.Value)".Trim() }
    }
    return $null
}

# ---- who -------------------------------------------------------------------------------------------
$targets = [System.Collections.Generic.List[object]]::new()
switch ($PSCmdlet.ParameterSetName) {
    'Csv' {
        foreach ($row in Import-Csv -LiteralPath $UsersCsv) {
            $objectId = Get-Property $row @('objectId', 'ObjectId', 'id')
            $email = Get-Property $row @('email', 'Email', 'mail', 'userPrincipalName', 'upn')
            if (-not $objectId -and -not $email) { Write-Warning "Skipping a CSV row without objectId or email."; continue }
            $targets.Add([pscustomobject]@{ ObjectId = $objectId; Email = $email })
        }
    }
    'Api' {
        $uri = "$ApiBaseUrl/api/policies/script?format=json"
        $response = Invoke-RestMethod -Method Get -Uri $uri -Headers $apiHeaders
        # Accept a bare list or an object with the list under organizers/users, each with objectId/email.
        $list = if ($response -is [System.Array]) { $response }
        elseif (Get-Property $response @('objectId', 'email')) { @($response) } # a one-element JSON array arrives unrolled
        elseif (Get-Property $response @('organizers')) { $response.organizers }
        elseif (Get-Property $response @('users')) { $response.users }
        else { @() }
        if (-not $AppId) { $AppId = Get-Property $response @('appId') }
        $apiPolicyName = Get-Property $response @('policyName')
        if ($apiPolicyName -and -not $PSBoundParameters.ContainsKey('PolicyName')) { $PolicyName = $apiPolicyName }
        foreach ($item in @($list)) {
            $objectId = Get-Property $item @('objectId', 'id')
            $email = Get-Property $item @('email', 'organizer')
            if (-not $objectId) { Write-Warning "Skipping $email`: timetable-sync has no object id for it (unresolved organizer)."; continue }
            $targets.Add([pscustomobject]@{ ObjectId = $objectId; Email = $email })
        }
        Write-Host "timetable-sync reports $($targets.Count) organizer(s) lacking policy '$PolicyName'."
    }
}
if (-not $AppId) { throw 'Give -AppId (the application id of the timetable-sync app registration).' }

if (-not $SkipConnect) {
    $connect = @{}
    $teamsEnvironment = @{ USGov = 'TeamsGCCH'; USGovDoD = 'TeamsDOD' }[$Cloud]
    if ($teamsEnvironment) { $connect.TeamsEnvironmentName = $teamsEnvironment }
    Connect-MicrosoftTeams @connect | Out-Null
}

# ---- the policy ------------------------------------------------------------------------------------
$policy = $null
try { $policy = Get-CsApplicationAccessPolicy -Identity $PolicyName -ErrorAction Stop } catch { $policy = $null }
if (-not $policy) {
    if ($PSCmdlet.ShouldProcess($PolicyName, "New-CsApplicationAccessPolicy -AppIds $AppId")) {
        New-CsApplicationAccessPolicy -Identity $PolicyName -AppIds $AppId -Description 'timetable-sync: Teams meetings for timetabled sessions' | Out-Null
        Write-Host "Created policy '$PolicyName' with app $AppId."
    }
}
elseif (@($policy.AppIds) -notcontains $AppId) {
    if ($PSCmdlet.ShouldProcess($PolicyName, "Set-CsApplicationAccessPolicy -AppIds @{Add=$AppId}")) {
        Set-CsApplicationAccessPolicy -Identity $PolicyName -AppIds @{ Add = $AppId } | Out-Null
        Write-Host "Added app $AppId to policy '$PolicyName'."
    }
}
else {
    Write-Host "Policy '$PolicyName' already holds app $AppId."
}

function Send-GrantRecord {
    param([hashtable] $Body, [string] $What)
    if (-not $ApiBaseUrl) {
        $cli = if ($Body.ContainsKey('global')) { 'timetable-sync policy grant --global' } else { "timetable-sync policy grant --user $($Body.user)" }
        Write-Host "  record it: $cli   (or POST /api/policies/grants)"
        return
    }
    if ($PSCmdlet.ShouldProcess($What, "POST $ApiBaseUrl/api/policies/grants")) {
        Invoke-RestMethod -Method Post -Uri "$ApiBaseUrl/api/policies/grants" -Headers $apiHeaders `
            -ContentType 'application/json' -Body ($Body | ConvertTo-Json -Compress) | Out-Null
        Write-Host "  recorded in timetable-sync."
    }
}

# ---- grants ----------------------------------------------------------------------------------------
if ($PSCmdlet.ParameterSetName -eq 'Global') {
    # Repeating a global grant is harmless; it covers every user without a policy of their own.
    if ($PSCmdlet.ShouldProcess('tenant (users without their own policy)', "Grant-CsApplicationAccessPolicy -PolicyName $PolicyName -Global")) {
        Grant-CsApplicationAccessPolicy -PolicyName $PolicyName -Global
        Write-Host "Granted '$PolicyName' tenant-wide. Set POLICY_GLOBAL_GRANTED_AT=$((Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')) or record it:"
    }
    Send-GrantRecord -Body @{ global = $true } -What 'global grant'
}

$granted = 0; $skipped = 0; $failed = 0
foreach ($target in $targets) {
    $identity = if ($target.ObjectId) { $target.ObjectId } else { $target.Email }
    $label = if ($target.Email -and $target.ObjectId) { "$($target.Email) ($($target.ObjectId))" } else { $identity }
    try {
        $user = Get-CsOnlineUser -Identity $identity | Select-Object -Property @('Identity', 'UserPrincipalName', 'ApplicationAccessPolicy')
        # The API accepts an object id or an e-mail; Get-CsOnlineUser's Identity is the object id in current module versions.
        $objectId = if ($target.ObjectId) { $target.ObjectId }
        elseif ("$($user.Identity)" -match '^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$') { "$($user.Identity)" }
        else { $target.Email }
        # The property reads 'PolicyName' (or 'Tag:PolicyName' in older module versions); empty = global/none.
        $current = "$($user.ApplicationAccessPolicy)" -replace '^Tag:', ''
        if ($current -eq $PolicyName) {
            Write-Host "$label already holds '$PolicyName'; skipped."
            $skipped++
            continue
        }
        if ($current) { Write-Warning "$label holds policy '$current', which '$PolicyName' replaces: add the app ids of '$current' to '$PolicyName' first if other apps need them." }
        if ($PSCmdlet.ShouldProcess($label, "Grant-CsApplicationAccessPolicy -PolicyName $PolicyName")) {
            Grant-CsApplicationAccessPolicy -PolicyName $PolicyName -Identity $identity
            $grantedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
            Write-Host "Granted '$PolicyName' to $label at $grantedAt."
            $granted++
            Send-GrantRecord -Body @{ user = $objectId; grantedAt = $grantedAt } -What $label
        }
    }
    catch {
        $failed++
        Write-Warning "$label`: $($_.Exception.Message)"
    }
}

if ($targets.Count -gt 0) {
    Write-Host "Done: $granted granted, $skipped already had it, $failed failed."
}
if ($granted -gt 0 -or $PSCmdlet.ParameterSetName -eq 'Global') {
    Write-Host 'Grants take up to 30 minutes (sometimes longer) to reach Microsoft Graph; timetable-sync retries meanwhile.'
}
if ($failed -gt 0) { exit 1 }
