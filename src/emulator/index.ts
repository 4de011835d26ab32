// Graph emulator library entry point. See README.md for what it reproduces and how it is laid out.
export { startGraphEmulator } from './server.js';
export { emulatorAppSettings } from './settings.js';
export type * from './types.js';
