// Scheduled query (log search) alerts on the app's named events in Application Insights `traces`,
// sent to one e-mail action group. Deployed by main.bicep when enableAlerts = true.
// The queries share the prelude of queries.kql: events are `name {json}` trace lines, or customDimensions.
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

var prelude = '''
let SyncEvents = traces
    | extend payload = iff(isnotempty(tostring(customDimensions["event"])), customDimensions,
                           parse_json(extract(@"^\S+ (\{.*\})\s*$", 1, message)))
    | extend event = tostring(payload["event"])
    | where isnotempty(event);
'''

var rules = [
  {
    name: 'no-successful-sync'
    displayName: 'timetable-sync: no completed sync run for 1 hour'
    description: 'No sync.run.completed event in the last hour: the timer, the queue trigger or the whole app is down (or no feed is registered).'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    query: '${prelude}SyncEvents | where event == "sync.run.completed"'
    operator: 'LessThan'
    threshold: 1
  }
  {
    name: 'policy-missing'
    displayName: 'timetable-sync: lecturer without an application access policy'
    description: 'An organizer has been reported policy.missing for longer than the propagation window (${policyPropagationMinutes} min). Run the grantCommand from the event (or infra/scripts/grant-access-policy.ps1).'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    query: '${prelude}SyncEvents | where event == "policy.missing" | summarize firstSeen = min(timestamp), lastSeen = max(timestamp) by objectId = tostring(payload.objectId) | where firstSeen < ago(${policyPropagationMinutes}m) and lastSeen > ago(${policyProbeHours + 1}h)'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'poison-messages'
    displayName: 'timetable-sync: feed sync moved to the poison queue'
    description: 'A sync-feeds message failed maxDequeueCount times and landed in sync-feeds-poison (sync.poison event). See the status API and the feed\'s last run.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: '${prelude}SyncEvents | where event == "sync.poison"'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    name: 'credential-expiring'
    displayName: 'timetable-sync: Graph credential expires within 30 days'
    description: 'credential.expiring event: renew the certificate or secret of the app registration and update Key Vault (re-run infra/scripts/register-app.ps1 -CertificatePath ...).'
    severity: 2
    evaluationFrequency: 'PT6H'
    windowSize: 'P1D'
    query: '${prelude}SyncEvents | where event == "credential.expiring"'
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
