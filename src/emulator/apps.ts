// Entra app registrations: client id, secret or certificates, the admin-consented application
// roles, and the federated subject a managed identity presents.
import { randomBytes, randomUUID } from 'node:crypto';
import { registerCertificate } from './jwt.js';
import type { AppRecord } from './state.js';
import type { EmulatorApp, EmulatorAppRegistration } from './types.js';

const DEFAULT_ROLES = ['OnlineMeetings.ReadWrite.All', 'User.Read.All'];

export function registerApp(apps: Map<string, AppRecord>, reg: EmulatorAppRegistration = {}): EmulatorApp {
  const clientId = (reg.clientId ?? randomUUID()).toLowerCase();
  const certificates = (reg.certificatePems ?? []).map(registerCertificate);
  // Generated secrets look like Entra's (`xxx8Q~…`) so redaction is tested on a realistic value.
  const generatedSecret = () =>
    `${randomBytes(3).toString('hex')}8Q~${randomBytes(27).toString('base64url')}`;
  const record: AppRecord = {
    clientId,
    displayName: reg.displayName ?? 'timetable-sync',
    secret: reg.secret ?? (certificates.length ? null : generatedSecret()),
    certificates,
    roles: reg.roles ?? [...DEFAULT_ROLES],
    federatedSubject: randomUUID(),
    servicePrincipalId: randomUUID(),
  };
  apps.set(clientId, record);
  return appView(record);
}

export function appView(a: AppRecord): EmulatorApp {
  return {
    clientId: a.clientId,
    displayName: a.displayName,
    secret: a.secret,
    roles: [...a.roles],
    federatedSubject: a.federatedSubject,
    certificateThumbprintsSha256: a.certificates.map((c) => c.thumbprintSha256),
  };
}
