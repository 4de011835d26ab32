// Public surface of the Graph layer for compose.ts and the sync.
export {
  createGraphAccess,
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_GRAPH_BASE_URL,
  DEFAULT_MAX_RETRY_AFTER_SECONDS,
} from './client.js';
export { GRAPH_CLOUDS, graphScope } from './clouds.js';
export type { GraphCloud } from './clouds.js';
export type {
  GraphAccess,
  GraphCredential,
  GraphSettings,
  GraphStats,
  MeetingOptions,
  PacerShare,
  LobbyBypassScope,
  AllowedPresenters,
} from './client.js';
export {
  GraphError,
  classifyGraphError,
  isGraphError,
  isPolicyDenialMessage,
  redactSecrets,
} from './errors.js';
export { GRAPH_SCOPE, GRAPH_SETTING_NAMES } from './token.js';
export type * from './types.js';
