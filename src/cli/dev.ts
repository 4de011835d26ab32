// `timetable-sync dev up|down`: the local stack (Azurite persisted to ./.azurite and the Graph emulator)
// in the background, as `demo --keep` left it; ./localStack.ts runs it.
import { startInBackground, stopInBackground } from './localStack.js';

export function up(): Promise<number> {
  return startInBackground();
}

export function down(): Promise<number> {
  return stopInBackground();
}
