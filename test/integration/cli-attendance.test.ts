// The attendance commands as an admin runs them: the built CLI against Azurite and the https Graph
// emulator. Attendance is off until `attendance enable`; `attendance collect` stores the held session's
// records; `attendance export` writes the CSV; `attendance erase` removes one student; without the
// permission `attendance collect` exits 1 with the fix on stderr.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startAzurite, type AzuriteInstance } from '../../src/dev/azurite.js';
import { emulatorAppSettings, startGraphEmulator, type EmulatorHandle } from '../../src/emulator/index.js';
import { requireBuiltCli, startCli } from '../support/reliability-cli.js';
import { vevent } from '../support/sync-feeds.js';
import { calendar } from '../support/sync-harness.js';
import { ATTENDANCE_EMULATOR, ROLES } from '../support/attendance.js';

let azurite: AzuriteInstance;
let emulator: EmulatorHandle;
let dir = '';
let env: Record<string, string> = {};

const cli = async (...args: string[]) => startCli(args, env, dir).done;

beforeAll(async () => {
  requireBuiltCli();
  [azurite, emulator] = await Promise.all([
    startAzurite(),
    startGraphEmulator({ propagationDelayMs: 0, appRoles: ROLES, ...ATTENDANCE_EMULATOR }),
  ]);
  dir = await mkdtemp(path.join(tmpdir(), 'tts-cli-attendance-'));
  await writeFile(path.join(dir, 'ca.pem'), emulator.caCertPem);
  env = {
    ...emulatorAppSettings(emulator, path.join(dir, 'ca.pem')),
    AzureWebJobsStorage: azurite.connectionString,
  };
  emulator.control.advanceTime(Date.parse('2027-01-04T08:00:00Z') - emulator.control.now());
  const [ada] = emulator.control.seedUsers([
    { displayName: 'Ada', userPrincipalName: 'ada@uni.example', mail: 'ada@uni.example' },
  ]);
  emulator.control.newPolicy('TimetableSync-OnlineMeetings', [emulator.clientId], '', { delayMs: 0 });
  emulator.control.grantPolicy('TimetableSync-OnlineMeetings', { userId: ada!.id }, { delayMs: 0 });
  await writeFile(
    path.join(dir, 'cs101.ics'),
    calendar(
      vevent({
        uid: 'cs101@uni.example',
        organizer: 'ada@uni.example',
        summary: 'CS101 Lecture',
        start: '2027-01-11T09:00:00Z',
        rrule: 'FREQ=WEEKLY;COUNT=2',
      }),
    ),
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([azurite?.stop(), emulator?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('timetable-sync attendance', () => {
  it('enable, collect, export and erase; a missing permission exits 1 with the fix', async () => {
    const added = await cli('feeds', 'add', 'cs101', '--file', path.join(dir, 'cs101.ics'));
    expect(added.code, added.stderr + added.stdout).toBe(0);
    expect((await cli('sync', '--feed', 'cs101', '--now', '2027-01-04T08:00:00Z')).code).toBe(0);
    emulator.control.advanceTime(Date.parse('2027-01-11T10:20:00Z') - emulator.control.now());
    emulator.control.holdEndedMeetings({ attendees: 5 });

    // Off by default: nothing is collected.
    const off = await cli('attendance', 'collect', '--now', '2027-01-11T10:20:00Z', '--json');
    expect(JSON.parse(off.stdout)).toEqual({ runs: [] });
    const enabled = await cli('attendance', 'enable', '--feed', 'cs101');
    expect(enabled.stdout).toContain('cs101: attendance is collected after each session');

    const collected = await cli('attendance', 'collect', '--now', '2027-01-11T10:20:00Z', '--json');
    expect(collected.code, collected.stderr).toBe(0);
    const [run] = (JSON.parse(collected.stdout) as { runs: Array<Record<string, number>> }).runs;
    const held = emulator.control.attendanceReports()[0]!.attendees;
    expect(run).toMatchObject({ collected: 1, records: held.length });

    const out = path.join(dir, 'cs101.csv');
    const exported = await cli(
      'attendance',
      'export',
      '--feed',
      'cs101',
      '--by',
      'student',
      '--format',
      'csv',
      '--out',
      out,
    );
    expect(exported.code, exported.stderr).toBe(0);
    const csv = await readFile(out, 'utf8');
    expect(csv.trimEnd().split('\r\n')).toHaveLength(held.length + 1);
    const student = held.find((a) => a.role === 'Attendee')!.email!;
    expect(csv).toContain(student);

    const erased = await cli('attendance', 'erase', '--email', student);
    expect(erased.stdout).toContain('erased 1 attendance records in 1 feeds');

    // Week 2 without the permission: exit 1, the fix on stderr, no name or address in it.
    emulator.control.setAppRoles(emulator.clientId, ['OnlineMeetings.ReadWrite.All', 'User.Read.All']);
    emulator.control.advanceTime(7 * 86_400_000);
    emulator.control.holdEndedMeetings();
    const refused = await cli('attendance', 'collect', '--now', '2027-01-18T10:20:00Z');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('attendance.permission.missing');
    expect(refused.stderr).toMatch(/OnlineMeetingArtifact\.Read\.All.*Grant admin consent/);
    expect(refused.stderr).not.toMatch(/student\d+@/);
  });
});
