// Scheduled query (log search) alerts on the app's named events in Application Insights `traces`
// (customDimensions: `event` and one dimension per property, src/telemetry.ts), sent to one e-mail action
// group. Deployed by main.bicep when enableAlerts = true. test/integration/monitoring.test.ts checks that
// every event and field these queries name exists in the events a sync emits.
param location string
param tags object = {}
@description('Resource id of the Application Insights component the app logs to.')
param applicationInsightsId string
@description('Where alerts are e-mailed.')
param alertEmail string
@description('POLICY_PROPAGATION_MINUTES of the app: a lecturer still without a policy after this long is alerted.')
param policyPropagationMinutes int = 60
@description('POLICY_PROBE_HOURS of the app: how often a missing policy is re-tried (and so re-reported).')
param policyProbeHours int = 6
@minValue(2)
@description('A feed whose last this many runs all failed is alerted.')
param failedRunsInARow int = 3

var rules = [
  {
    name: 'no-sync-run'
    displayName: 'timetable-sync: no sync run for 1 hour'
    description: 'No sync.run.completed in the last hour. Every run of every enabled feed logs one, unchanged feeds too (outcome unchanged), so the timer, the queue trigger or the app is down, or no feed is enabled. Runbook: docs/runbook.md#no-sync-run.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    query: 'traces | where customDimensions.event == "sync.run.completed"'
    operator: 'LessThan'
    threshold: 1
  }
  {
    name: 'feed-failing'
    displayName: 'timetable-sync: a feed failed ${failedRunsInARow} runs in a row'
    description: 'The last ${failedRunsInARow} runs of a feed ended with outcome failed (its feed.rejected events say why: unreachable URL, not a calendar, cut short). Nothing of that feed changes until it is fixed. Runbook: docs/runbook.md#feedrejected.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT6H'
    query: 'traces | where customDimensions.event == "sync.run.completed" | project timestamp, feedId = tostring(customDimensions.feedId), outcome = tostring(customDimensions.outcome) | order by feedId asc, timestamp desc | extend recent = row_number(1, prev(feedId) != feedId) | where recent <= ${failedRunsInARow} | summarize runs = count(), failedRuns = countif(outcome == "failed") by feedId | where runs == ${failedRunsInARow} and failedRuns == ${failedRunsInARow}'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'policy-missing'
    displayName: 'timetable-sync: lecturer without an application access policy'
    description: 'A lecturer has been reported policy.missing for longer than the propagation window (${policyPropagationMinutes} min). Run the grantCommand from the event (or infra/scripts/grant-access-policy.ps1), then record the grant. Runbook: docs/runbook.md#policymissing.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    query: 'traces | where customDimensions.event == "policy.missing" | summarize firstSeen = min(timestamp), lastSeen = max(timestamp) by objectId = tostring(customDimensions.objectId), email = tostring(customDimensions.email), displayName = tostring(customDimensions.displayName) | where firstSeen < ago(${policyPropagationMinutes}m) and lastSeen > ago(${policyProbeHours + 1}h)'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'poison-messages'
    displayName: 'timetable-sync: feed sync moved to the poison queue'
    description: 'A sync-feeds message failed 5 times and landed in sync-feeds-poison (sync.poison event, feedIds). Runbook: docs/runbook.md#syncpoison.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces | where customDimensions.event == "sync.poison" | project timestamp, count = toint(customDimensions["count"]), feedIds = tostring(customDimensions.feedIds)'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'credential-expiring'
    displayName: 'timetable-sync: Graph credential expires within 30 days'
    description: 'credential.expiring event: renew the certificate of the app registration and import it into Key Vault. Runbook: docs/runbook.md#credentialexpiring.'
    severity: 2
    evaluationFrequency: 'PT6H'
    windowSize: 'P1D'
    query: 'traces | where customDimensions.event == "credential.expiring" | project timestamp, daysLeft = toint(customDimensions.daysLeft), expiresAt = tostring(customDimensions.expiresAt)'
    operator: 'GreaterThan'
    threshold: 0
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-timetable-sync'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'ttsync'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for rule in rules: {
  name: 'alert-timetable-sync-${rule.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: rule.evaluationFrequency
    windowSize: rule.windowSize
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: rule.operator
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}]

output actionGroupId string = actionGroup.id
