// The app settings that point the daemon at a running emulator: what `timetable-sync emulator` prints,
// what the demo, the benches and the tests load — one list, so a new Graph setting is added once.
import type { EmulatorHandle } from './types.js';

export function emulatorAppSettings(
  emulator: Pick<EmulatorHandle, 'tenantId' | 'clientId' | 'clientSecret' | 'authorityHost' | 'graphBaseUrl'>,
  caCertFile: string,
): Record<string, string> {
  return {
    GRAPH_TENANT_ID: emulator.tenantId,
    GRAPH_CLIENT_ID: emulator.clientId,
    GRAPH_CLIENT_SECRET: emulator.clientSecret,
    GRAPH_AUTHORITY_HOST: emulator.authorityHost,
    GRAPH_BASE_URL: emulator.graphBaseUrl,
    GRAPH_CA_CERT_FILE: caCertFile,
  };
}
