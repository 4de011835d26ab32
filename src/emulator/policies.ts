// Teams application access policies, as the MicrosoftTeams PowerShell cmdlets manage them, with the
// propagation delay Microsoft documents ("can take up to 30 minutes to take effect in Microsoft Graph").
// https://learn.microsoft.com/graph/cloud-communication-online-meeting-application-access-policy
//
// Semantics reproduced:
// - New-CsApplicationAccessPolicy -Identity <name> -AppIds ...  → newPolicy(name, appIds)
// - Set-CsApplicationAccessPolicy -Identity <name> -AppIds @{Add=...; Remove=...} → setPolicy
// - Grant-CsApplicationAccessPolicy -PolicyName <name|$null> -Identity <userObjectId> | -Global
//   → grant(name | null, userId | 'global'). A user holds at most one policy: a new grant replaces
//   the old; $null removes it. A user's own grant (even of a policy without this app) overrides the
//   global one; users without their own grant fall back to the global grant.
// Every change (grant, removal, app-id edit) takes effect `delayMs` after it was made; until then the
// previous state is what Graph sees.

export interface PolicyChange<T> {
  value: T;
  madeAt: number;
  effectiveAt: number;
}

/** A value whose changes take effect after a delay: the state at t is the latest-made change effective at t. */
class Timeline<T> {
  private readonly changes: PolicyChange<T>[] = [];
  set(value: T, madeAt: number, effectiveAt: number): void {
    this.changes.push({ value, madeAt, effectiveAt });
  }
  at(t: number): T | undefined {
    let best: PolicyChange<T> | undefined;
    for (const c of this.changes) {
      if (c.effectiveAt <= t && (!best || c.madeAt >= best.madeAt)) best = c;
    }
    return best?.value;
  }
  /** The value as last set by an admin (what Get-Cs… would show), propagated or not. */
  latest(): PolicyChange<T> | undefined {
    return this.changes[this.changes.length - 1];
  }
}

export interface PolicyView {
  name: string;
  description: string;
  /** App ids as last set (what Get-CsApplicationAccessPolicy shows). */
  appIds: string[];
  /** App ids Graph currently enforces. */
  effectiveAppIds: string[];
}

export interface GrantView {
  /** Object id, or 'global'. */
  target: string;
  /** Policy name as last granted; null when removed. */
  policyName: string | null;
  grantedAt: string;
  effectiveAt: string;
  effective: boolean;
}

export type GrantTarget = { userId: string } | 'global';

export class PolicyError extends Error {
  override name = 'PolicyError';
}

export class PolicyStore {
  private readonly policies = new Map<string, { description: string; appIds: Timeline<string[]> }>();
  private readonly grants = new Map<string, Timeline<string | null>>();

  constructor(
    private readonly now: () => number,
    public delayMs: number,
  ) {}

  private effectiveAt(delayMs?: number): number {
    return this.now() + (delayMs ?? this.delayMs);
  }

  newPolicy(name: string, appIds: string[], description = '', delayMs?: number): PolicyView {
    if (!name) throw new PolicyError('policy name (-Identity) is required');
    if (this.policies.has(name.toLowerCase()))
      throw new PolicyError(`a policy named '${name}' already exists`);
    const timeline = new Timeline<string[]>();
    timeline.set(normalizeIds(appIds), this.now(), this.effectiveAt(delayMs));
    this.policies.set(name.toLowerCase(), { description, appIds: timeline });
    return this.view(name);
  }

  setPolicy(
    name: string,
    change: { add?: string[]; remove?: string[]; appIds?: string[] },
    delayMs?: number,
  ): PolicyView {
    const policy = this.policies.get(name.toLowerCase());
    if (!policy) throw new PolicyError(`cannot find policy '${name}'`);
    const current = policy.appIds.latest()?.value ?? [];
    let next = change.appIds ? normalizeIds(change.appIds) : [...current];
    next = normalizeIds([...next, ...(change.add ?? [])]).filter(
      (id) => !(change.remove ?? []).map((r) => r.toLowerCase()).includes(id),
    );
    policy.appIds.set(next, this.now(), this.effectiveAt(delayMs));
    return this.view(name);
  }

  removePolicy(name: string): void {
    if (!this.policies.delete(name.toLowerCase())) throw new PolicyError(`cannot find policy '${name}'`);
  }

  grant(policyName: string | null, target: GrantTarget, delayMs?: number): GrantView {
    if (policyName !== null && !this.policies.has(policyName.toLowerCase()))
      throw new PolicyError(`cannot find policy '${policyName}'`);
    const key = target === 'global' ? 'global' : target.userId.toLowerCase();
    let timeline = this.grants.get(key);
    if (!timeline) {
      timeline = new Timeline<string | null>();
      this.grants.set(key, timeline);
    }
    timeline.set(
      policyName === null ? null : policyName.toLowerCase(),
      this.now(),
      this.effectiveAt(delayMs),
    );
    return this.grantView(key, timeline);
  }

  /** Whether Graph lets `appId` act for `userId` right now. */
  isAllowed(appId: string, userId: string): boolean {
    const t = this.now();
    const own = this.grants.get(userId.toLowerCase())?.at(t);
    const policyName = own ?? this.grants.get('global')?.at(t) ?? null;
    if (policyName === null) return false;
    const appIds = this.policies.get(policyName)?.appIds.at(t) ?? [];
    return appIds.includes(appId.toLowerCase());
  }

  view(name: string): PolicyView {
    const policy = this.policies.get(name.toLowerCase());
    if (!policy) throw new PolicyError(`cannot find policy '${name}'`);
    return {
      name,
      description: policy.description,
      appIds: policy.appIds.latest()?.value ?? [],
      effectiveAppIds: policy.appIds.at(this.now()) ?? [],
    };
  }

  list(): { policies: PolicyView[]; grants: GrantView[] } {
    return {
      policies: [...this.policies.keys()].map((name) => this.view(name)),
      grants: [...this.grants.entries()].map(([key, timeline]) => this.grantView(key, timeline)),
    };
  }

  clear(): void {
    this.policies.clear();
    this.grants.clear();
  }

  private grantView(target: string, timeline: Timeline<string | null>): GrantView {
    const latest = timeline.latest();
    if (!latest) throw new PolicyError('empty grant');
    return {
      target,
      policyName: latest.value,
      grantedAt: new Date(latest.madeAt).toISOString(),
      effectiveAt: new Date(latest.effectiveAt).toISOString(),
      effective: latest.effectiveAt <= this.now(),
    };
  }
}

function normalizeIds(ids: string[]): string[] {
  return [...new Set(ids.map((id) => id.trim().toLowerCase()).filter(Boolean))];
}
