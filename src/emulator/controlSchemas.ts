// Bodies the /_emulator/* control API accepts. Strict objects: a misspelt setting (`errorrate`) is
// refused instead of silently leaving the emulator as it was.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { LOBBY_SCOPES, PRESENTERS } from './meetingRules.js';
import type {
  EmulatorAppRegistration,
  EmulatorBehaviourChange,
  EmulatorUserChange,
  EmulatorUserSeed,
  FaultSettings,
  ThrottleSettings,
} from './types.js';

const nonNegative = z.number().nonnegative();
const share = z.number().min(0).max(1);
const seconds = z.number().int().nonnegative();
const name = z.string().min(1);
const appIds = z.array(z.string());
/** Per-change propagation override (e.g. 0 in test setup). */
const delayMs = nonNegative.optional();

function isCertificatePem(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

export const resetBody = z.strictObject({ everything: z.boolean().optional() });

export const seedUsersBody = z.strictObject({
  users: z.array(
    z.strictObject({
      id: name.optional(),
      displayName: z.string(),
      userPrincipalName: name,
      mail: z.string().nullable().optional(),
      proxyAddresses: z.array(z.string()).optional(),
      userType: z.enum(['Member', 'Guest']).optional(),
      accountEnabled: z.boolean().optional(),
      teamsLicensed: z.boolean().optional(),
    }) satisfies z.ZodType<EmulatorUserSeed>,
  ),
});

export const userChangeBody = z.strictObject({
  userType: z.enum(['Member', 'Guest']).optional(),
  accountEnabled: z.boolean().optional(),
  teamsLicensed: z.boolean().optional(),
}) satisfies z.ZodType<EmulatorUserChange>;

export const registerAppBody = z.strictObject({
  clientId: name.optional(),
  displayName: z.string().optional(),
  secret: name.optional(),
  certificatePems: z.array(z.string().refine(isCertificatePem, 'expected a PEM certificate')).optional(),
  roles: z.array(z.string()).optional(),
}) satisfies z.ZodType<EmulatorAppRegistration>;

// PowerShell's -Identity is accepted as an alias of name (and of userId when granting).
export const newPolicyBody = z
  .strictObject({
    name: name.optional(),
    identity: name.optional(),
    appIds: appIds.optional(),
    description: z.string().optional(),
    delayMs,
  })
  .refine((b) => b.name !== undefined || b.identity !== undefined, {
    path: ['name'],
    message: 'required (the policy name, or identity)',
  });

export const setPolicyBody = z.strictObject({
  add: appIds.optional(),
  remove: appIds.optional(),
  appIds: appIds.optional(),
  delayMs,
});

export const grantPolicyBody = z
  .strictObject({
    // null removes the grant (Grant-CsApplicationAccessPolicy -PolicyName $null).
    policyName: name.nullable(),
    userId: name.optional(),
    identity: name.optional(),
    global: z.boolean().optional(),
    delayMs,
  })
  .superRefine((b, ctx) => {
    const user = b.userId !== undefined || b.identity !== undefined;
    if (b.global === true && user)
      ctx.addIssue({
        code: 'custom',
        path: ['global'],
        message: 'give either global: true or userId, not both',
      });
    if (b.global !== true && !user)
      ctx.addIssue({
        code: 'custom',
        path: ['userId'],
        message: 'required (the user object id) unless global: true',
      });
  });

const oneOf = (set: ReadonlySet<string>) => z.enum([...set] as [string, ...string[]]);

export const settingsBody = z.strictObject({
  propagationDelayMs: nonNegative.optional(),
  policyErrorStyle: z.enum(['current', 'legacy']).optional(),
  meetingDefaults: z
    .strictObject({
      lobbyBypassScope: oneOf(LOBBY_SCOPES).optional(),
      isDialInBypassEnabled: z.boolean().optional(),
      allowedPresenters: oneOf(PRESENTERS).optional(),
    })
    .optional(),
  monthlyMeetingLimit: z
    .strictObject({
      perOrganizer: z.number().int().nonnegative().optional(),
      message: z.string().max(1000).optional(),
      status: z.union([z.literal(403), z.literal(429)]).optional(),
    })
    .optional(),
  patchNoContent: z.boolean().optional(),
}) satisfies z.ZodType<EmulatorBehaviourChange>;

export const throttleBody = z.strictObject({
  perAppPerSecond: nonNegative.optional(),
  perOrganizerPerSecond: nonNegative.optional(),
  burst: nonNegative.optional(),
  retryAfterSeconds: seconds.optional(),
}) satisfies z.ZodType<ThrottleSettings>;

export const faultsBody = z.strictObject({
  latencyMs: nonNegative.optional(),
  latencyJitterMs: nonNegative.optional(),
  errorRate: share.optional(),
  resetRate: share.optional(),
  failAfterCommitRate: share.optional(),
  failAfterCommitNext: z.number().int().nonnegative().optional(),
  failAfterCommitMode: z.enum(['reset', '504']).optional(),
  retryAfterSeconds: seconds.optional(),
  applyToTokenEndpoint: z.boolean().optional(),
  seed: z.number().int().optional(),
}) satisfies z.ZodType<FaultSettings>;

export const clockBody = z.strictObject({ advanceMs: nonNegative });

export const joinBody = z.strictObject({ joinWebUrl: z.string().min(1).max(4000) });

const instant = z.iso.datetime({ offset: true });
/** POST /_emulator/hold: one meeting held (default its scheduled time, 12 simulated students). */
export const holdBody = z.strictObject({
  meetingId: name,
  start: instant.optional(),
  end: instant.optional(),
  attendees: z.number().int().min(0).max(10_000).optional(),
  seed: z.number().int().optional(),
});
/** POST /_emulator/hold-ended: every ended meeting not held yet. */
export const holdEndedBody = z.strictObject({ attendees: z.number().int().min(0).max(10_000).optional() });
/** PUT /_emulator/attendance */
export const attendanceBody = z.strictObject({
  reportDelayMs: nonNegative.optional(),
  pageSize: z.number().int().min(1).max(1000).optional(),
});

export interface FieldProblem {
  target: string;
  message: string;
}

/** One entry per offending field: unknown keys are named one by one. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ target: at ? `${at}.${key}` : key, message: 'unknown field' }));
    return [{ target: at || '(body)', message: issue.message }];
  });
}
