// The newcomer's path, as typed into a terminal (the built CLI, each command its own process, in a fresh
// directory): `npm start -- --keep` runs the demo and leaves its stack up with ./local.settings.json
// pointing at it; `feeds list`, `policy list` and `status` then show the demo's state. After
// `dev down` a state command says within 3 s that Storage cannot be reached, where, and what to do.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'timetable-sync.js');
const cwd = mkdtempSync(path.join(tmpdir(), 'tts-newcomer-'));
const record = path.join(cwd, '.azurite', 'timetable-sync-stack.json');

function cli(
  args: string[],
  timeout = 30_000,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, timeout }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

afterAll(() => {
  // A failed assertion must not leave the background stack running.
  if (!existsSync(record)) return;
  const { pid } = JSON.parse(readFileSync(record, 'utf8')) as { pid: number };
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
});

describe('newcomer: npm start -- --keep, then the state commands', () => {
  it('shows the demo state through local.settings.json, and says what to do once the stack is down', async () => {
    const start = await cli(['start', '--keep'], 180_000);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toContain('Wrote ./local.settings.json');
    expect(start.stdout).toContain('dev down');
    const settings = JSON.parse(readFileSync(path.join(cwd, 'local.settings.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    expect(settings.Values.AzureWebJobsStorage).toMatch(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/);
    expect(settings.Values.GRAPH_BASE_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+/);

    const notCalendar = path.join(cwd, 'not-a-calendar.ics');
    writeFileSync(notCalendar, 'hello');
    const [feeds, policies, status, plan, badFile] = await Promise.all([
      cli(['feeds', 'list']),
      cli(['policy', 'list']),
      cli(['status']),
      cli(['plan', '--feed', 'northbridge-spring-2027']),
      cli(['feeds', 'add', 'other', '--file', notCalendar]),
    ]);
    // The stored feed planned against its meetings: nothing new to do right after the demo's passes.
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/plan of feed northbridge-spring-2027[\s\S]*\n[1-9]\d* unchanged/);
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toContain(`--file ${notCalendar}: not an iCalendar file`);
    expect(feeds.code, feeds.stderr).toBe(0);
    expect(feeds.stdout).toMatch(/northbridge-spring-2027\s+upload\s+true\s+\S+\s+completed\s+\d+/);
    expect(policies.code, policies.stderr).toBe(0);
    // The sample's lecturer without a policy, and one with it.
    expect(policies.stdout).toMatch(/p\.quill@northbridge\.example\s+\S+\s+missing/);
    expect(policies.stdout).toMatch(/a\.byron@northbridge\.example\s+\S+\s+active/);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/northbridge-spring-2027\s+\S+\s+completed\s+[1-9]\d*\s+[1-9]\d*/);
    expect(status.stdout).toContain('blocked (policyMissing)');

    const down = await cli(['dev', 'down']);
    expect(down.code, down.stderr).toBe(0);
    const unreachable = await cli(['feeds', 'list']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.ms).toBeLessThan(3_000);
    const port = /TableEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(
      settings.Values.AzureWebJobsStorage ?? '',
    )?.[1];
    expect(unreachable.stderr).toContain(`cannot reach Table Storage at http://127.0.0.1:${port}`);
    expect(unreachable.stderr).toContain('timetable-sync dev up');
  });
});
