// What this run knows of each organizer's access policy: the stored records, updated as Graph answers,
// and which refusals it has already alerted on (one policy.missing per organizer and run).
import {
  decidePolicyGate,
  effectivePolicySettings,
  grantCommand,
  recordPolicyDenied,
  recordPolicyProbe,
  recordPolicySuccess,
  type PolicyGateDecision,
  type PolicySettings,
} from '../../core/policy.js';
import type { PolicyRecord } from '../../core/state.js';
import { ConcurrencyError } from '../../storage/errors.js';
import type { ApplyRun } from './run.js';

export class PolicyLedger {
  private readonly policies = new Map<string, PolicyRecord | null>();
  /** Why each organizer was last refused in this run (the policy gate's message, with what to do). */
  private readonly denials = new Map<string, string>();
  private readonly missingReported = new Set<string>();
  settings: PolicySettings;

  constructor(private readonly run: ApplyRun) {
    this.settings = effectivePolicySettings(run.deps.config.policy, this.policies);
  }

  async load(): Promise<void> {
    for (const record of await this.run.deps.store.policies.list())
      this.policies.set(record.objectId, record);
    this.settings = effectivePolicySettings(this.run.deps.config.policy, this.policies);
  }

  state(organizerId: string): PolicyRecord['state'] | undefined {
    return this.policies.get(organizerId)?.state;
  }

  decide(organizerId: string): PolicyGateDecision {
    return decidePolicyGate(this.policies.get(organizerId) ?? null, this.run.now(), this.settings);
  }

  /** Refused in this run already while not known to work: the queued rest would only collect one 403 each. */
  isDenied(organizerId: string): boolean {
    return this.denials.has(organizerId) && this.state(organizerId) !== 'active';
  }

  denialMessage(organizerId: string): string {
    return (
      this.denials.get(organizerId) ??
      `no application access policy covers this organizer: run ${grantCommand(this.settings.policyName, organizerId)}`
    );
  }

  /** A missing policy is being probed again: record when, so the probe interval counts from now. */
  async noteProbe(organizerId: string): Promise<void> {
    const current = this.policies.get(organizerId) ?? null;
    if (current?.state === 'missing')
      await this.save(recordPolicyProbe(current, organizerId, this.run.now()));
  }

  async noteSuccess(organizerId: string): Promise<void> {
    const current = this.policies.get(organizerId) ?? null;
    if (current?.state === 'active') return;
    const next = recordPolicySuccess(current, organizerId, this.run.now());
    this.policies.set(organizerId, next);
    if (current && current.state !== 'unknown')
      this.run.log.info('policy.active', {
        feedId: this.run.feedId,
        ...this.run.lecturer(organizerId),
        previous: current.state,
      });
    await this.save(next);
  }

  async noteDenied(organizerId: string): Promise<void> {
    const current = this.policies.get(organizerId) ?? null;
    const { record, outcome, retryAt, message } = recordPolicyDenied(
      current,
      organizerId,
      this.run.now(),
      this.settings,
    );
    this.policies.set(organizerId, record);
    // Requests already in flight when the first 403 came back are refused too: one alert per organizer
    // and run (the first one says best what happened, e.g. 'revoked').
    const alreadyReported = outcome !== 'propagating' && this.missingReported.has(organizerId);
    if (!alreadyReported) this.denials.set(organizerId, message);
    if (outcome !== 'propagating') this.missingReported.add(organizerId);
    if (!alreadyReported) {
      const command = grantCommand(this.settings.policyName, organizerId);
      if (outcome === 'propagating') {
        this.run.log.warning('policy.propagating', {
          feedId: this.run.feedId,
          ...this.run.lecturer(organizerId),
          grantedAt: record.grantedAt,
          until: retryAt,
        });
      } else {
        this.run.log.error('policy.missing', {
          feedId: this.run.feedId,
          ...this.run.lecturer(organizerId),
          outcome,
          grantCommand: command,
          message,
          action: `run in Teams PowerShell: ${command}, then record it: timetable-sync policy grant --user ${organizerId}`,
        });
      }
    }
    await this.save(record);
  }

  private async save(record: PolicyRecord): Promise<void> {
    try {
      const stored = await this.run.deps.store.policies.put(record);
      this.policies.set(record.objectId, stored);
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      // Another run recorded the same organizer's state; re-read it so the next write is conditional on it.
      this.policies.set(record.objectId, await this.run.deps.store.policies.get(record.objectId));
    }
  }
}
