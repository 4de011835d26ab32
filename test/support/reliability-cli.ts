// Runs the built CLI (`node dist/src/cli.js ...`) as a child process against a test's Azurite and
// Graph emulator, with the option to SIGKILL it at a chosen moment (crash injection).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { repoRoot } from './reliability-env.js';

export const CLI_PATH = path.join(repoRoot, 'dist', 'src', 'cli.js');

export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  killed: boolean;
  durationMs: number;
}

export interface CliRun {
  /** Resolves when the process has exited. */
  done: Promise<CliResult>;
  kill(): void;
  exited(): boolean;
}

/** Starts the CLI with exactly `env` (plus PATH) in `cwd` (a temp dir, so no local.settings.json is read). */
export function startCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 90_000,
): CliRun {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let killed = false;
  let hasExited = false;
  const timer = setTimeout(() => {
    stderr += `\n[test] CLI still running after ${timeoutMs} ms: killed`;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      hasExited = true;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed, durationMs: Date.now() - started });
    });
  });
  return {
    done,
    kill() {
      if (hasExited || child.exitCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    },
    exited: () => hasExited || child.exitCode !== null,
  };
}
