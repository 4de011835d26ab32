// Applying a plan: small units (create, update, cancel, replace) scheduled by organizer lanes.
export { ApplyRun, type ApplyCounters, type ApplyDeps } from './run.js';
export { applyOperations } from './lanes.js';
