// Graph emulator library entry point. See server.ts for what it reproduces.
export { startGraphEmulator } from './server.js';
export { emulatorAppSettings } from './settings.js';
export type * from './types.js';
