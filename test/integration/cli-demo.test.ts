// `npm start` as a person runs it: the built CLI in a plain Node process (not through vitest's module
// loader, which is more lenient about CommonJS named exports than Node's ESM loader).
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp-dirs.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(root, 'bin', 'timetable-sync.js');
// `--serve` writes ./local.settings.json and ./.azurite where it runs: never in the repository. Each
// test has its own directory, so the two demos run at the same time (most of a demo is waiting: on
// Azurite, on the emulator, on the propagating grant).
const newDir = tempDirs('tts-demo-');

describe.concurrent('timetable-sync demo (npm start without settings)', () => {
  it('prints the documented JSON: two passes, the second unchanged, and no duplicate meeting; keeps nothing', async () => {
    const cwd = newDir();
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [bin, 'demo', '--json'],
        { cwd, timeout: 120_000, maxBuffer: 8 << 20 },
        (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as {
      passes: Array<Record<string, number>>;
      emulator: { meetings: number; duplicates: number };
      attendance: { sessionsWithReports: number; records: number };
    };
    expect(report.passes).toHaveLength(2);
    for (const pass of report.passes)
      expect(Object.keys(pass).sort()).toEqual([
        'blocked',
        'cancelled',
        'created',
        'failed',
        'unchanged',
        'updated',
      ]);
    const [first, second] = report.passes as [Record<string, number>, Record<string, number>];
    expect(first.created).toBeGreaterThan(100);
    // The lecturer without a policy is blocked, not failed; the propagating grant lands within the run.
    expect(first.blocked).toBeGreaterThan(0);
    expect(first.failed).toBe(0);
    expect(second).toMatchObject({ created: 0, unchanged: first.created, blocked: first.blocked });
    expect(report.emulator).toEqual({ meetings: first.created, duplicates: 0 });
    // Without --keep or --serve nothing is left behind.
    expect(existsSync(path.join(cwd, 'local.settings.json'))).toBe(false);
    expect(existsSync(path.join(cwd, '.azurite'))).toBe(false);
    // The first week held in the emulator, its attendance collected: a class per session, not a few names.
    expect(report.attendance.sessionsWithReports).toBeGreaterThan(5);
    expect(report.attendance.records).toBeGreaterThan(report.attendance.sessionsWithReports * 10);
  });

  it('--serve keeps the admin page up after the report and stops on SIGINT', async () => {
    const cwd = newDir();
    const child = spawn(process.execPath, [bin, 'demo', '--serve', '--port', '0'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no admin page URL within 120 s:\n${out}\n${err}`)),
        120_000,
      );
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /Admin page: (http:\/\/\S+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`demo exited (${code}) before serving:\n${out}\n${err}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('timetable-sync');
    // While it runs, ./local.settings.json points the state commands at its Azurite.
    expect(out).toContain('Wrote ./local.settings.json');
    const settings = JSON.parse(readFileSync(path.join(cwd, 'local.settings.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    expect(settings.Values.AzureWebJobsStorage).toMatch(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
