// The command table: every command's name, usage, options, summary and example, in one place. The
// parser (./args.ts) checks the words against it, `--help` is printed from it, and the README's command
// table is checked against it (test/unit/cli-commands.test.ts). Adding a command is one entry here and
// a module exporting its run function. Loading is lazy: `--help` and `expand` never load Azure SDKs.
import type { CommandSpec, OptionSpec } from './args.js';

const json = (what: string): OptionSpec => ({ type: 'boolean', help: `print ${what} as JSON` });
const now: OptionSpec = {
  type: 'string',
  value: 'ISO',
  help: "the sync's clock (sessions before it are past), e.g. 2027-01-04T08:00:00Z",
};
const port = (fallback: string): OptionSpec => ({
  type: 'string',
  value: 'N',
  help: `the port of the admin page (default ${fallback}; 0 = a free one)`,
});

const DEMO_OPTIONS: Record<string, OptionSpec> = {
  feed: {
    type: 'string',
    value: 'FILE',
    help: 'a timetable of your own instead of the bundled sample (every ORGANIZER is seeded and granted)',
  },
  now,
  'horizon-days': {
    type: 'string',
    value: 'N',
    help: 'how many days ahead sessions get meetings (default 120)',
  },
  json: json('the two passes and the emulator counts'),
  keep: {
    type: 'boolean',
    help: 'leave Azurite (kept in ./.azurite) and the Graph emulator running in the background, and write ./local.settings.json pointing at them',
  },
  serve: { type: 'boolean', help: 'then keep everything running with the admin page until Ctrl-C' },
  port: { ...port('7071'), requires: 'serve' },
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    usage: 'start [--now ISO] [--json] [--keep] [--serve [--port N]]',
    summary:
      "what `npm start` runs: a real sync of every enabled feed when Graph settings are present, else `demo` (`--keep`, `--serve` and `--port` are the demo's)",
    options: {
      now,
      json: json('the result'),
      keep: DEMO_OPTIONS.keep as OptionSpec,
      serve: DEMO_OPTIONS.serve as OptionSpec,
      port: DEMO_OPTIONS.port as OptionSpec,
    },
    groups: [{ options: ['keep', 'serve'], rule: 'atMostOne' }],
    examples: ['start --keep'],
    load: () => import('./start.js').then((m) => m.run),
  },
  {
    name: 'demo',
    usage: 'demo [--feed FILE] [--now ISO] [--horizon-days N] [--json] [--keep | --serve [--port N]]',
    summary:
      'runs the whole product on this machine (Azurite, the Graph emulator, the sample timetable) and reports what two sync passes did. `--keep` leaves its Azurite (kept in `./.azurite`) and Graph emulator running in the background and writes `./local.settings.json` pointing at them, so `feeds list`, `policy list`, `status` and `serve` show the demo\'s state (`dev down` stops them); `--serve` keeps it all running in the foreground with the admin page on `http://127.0.0.1:7071/api/manage` (the function key is printed) until Ctrl-C, with the same `local.settings.json`. `--feed FILE` seeds and grants every ORGANIZER of that file, effective at once; `--now` is the sync\'s clock (default for the sample: 2027-01-04T08:00Z); after the sync the clock moves through the first teaching week, the emulator holds those sessions and the report lists attendance per course; `--json` prints `{"passes":[{"created","updated","cancelled","unchanged","blocked","failed"},…],"emulator":{"meetings","duplicates"},"attendance":{"sessionsWithReports","records"}}`',
    options: DEMO_OPTIONS,
    groups: [{ options: ['keep', 'serve'], rule: 'atMostOne' }],
    examples: ['demo --keep', 'demo --serve --port 8080'],
    load: () => import('./demo.js').then((m) => m.run),
  },
  {
    name: 'dev up',
    usage: 'dev up',
    summary:
      'starts the local stack in the background: Azurite on `./.azurite` and the Graph emulator, on the ports `./local.settings.json` names (a new, empty stack when there is none). The emulator gets the lecturers and grants `demo --keep` recorded; the meetings it held are not kept across `dev down`',
    options: {},
    examples: ['dev up'],
    load: () => import('./dev.js').then((m) => m.up),
  },
  {
    name: 'dev down',
    usage: 'dev down',
    summary: 'stops the local stack `dev up` or `demo --keep` started (the data in `./.azurite` stays)',
    options: {},
    examples: ['dev down'],
    load: () => import('./dev.js').then((m) => m.down),
  },
  {
    name: 'sync',
    storage: true,
    usage: 'sync [--feed ID] [--now ISO] [--force] [--json] [--verbose]',
    summary:
      'syncs one or every enabled feed now, in this process; `--force` skips the unchanged-feed fast path. Exit status 1 when a run failed',
    options: {
      feed: { type: 'string', value: 'ID', help: 'only this feed (default: every enabled feed)' },
      now,
      force: { type: 'boolean', help: 'sync even an unchanged feed' },
      json: json('the run summaries'),
      verbose: { type: 'boolean', help: 'log every event (stderr), not only warnings' },
    },
    examples: ['sync --feed maths-y1'],
    load: () => import('./sync.js').then((m) => m.run),
  },
  {
    name: 'plan',
    storage: true,
    usage: 'plan (--feed ID | --file FILE [--feed ID]) [--now ISO] [--json]',
    summary:
      "dry run, grouped: what would be created, moved, updated, cancelled, held or blocked, and why. `--feed ID`: the stored feed; `--file FILE`: that file as the feed's next upload (as a new feed without `--feed`). Writes nothing",
    options: {
      feed: {
        type: 'string',
        value: 'ID',
        help: 'the registered feed to plan (with --file: the feed the file would update)',
      },
      file: { type: 'string', value: 'FILE', help: 'an .ics file to preview as an upload' },
      now,
      json: json('the plan'),
    },
    groups: [{ options: ['feed', 'file'], rule: 'atLeastOne' }],
    examples: ['plan --feed maths-y1', 'plan --file maths-y1-v2.ics --feed maths-y1'],
    load: () => import('./plan.js').then((m) => m.run),
  },
  {
    name: 'feeds add',
    storage: true,
    usage:
      'feeds add ID (--file FILE | --url URL) [--organizer EMAIL] [--tz ZONE] [--horizon-days N] [--disabled]',
    summary:
      'uploads or registers a feed (validated before anything is stored); says when the creation or deletion guard will hold its changes',
    positionals: [{ name: 'ID', help: 'the feed id: 1-63 letters, digits, - or _' }],
    options: {
      file: { type: 'string', value: 'FILE', help: 'upload this .ics file' },
      url: {
        type: 'string',
        value: 'URL',
        help: 'fetch the timetable from this https URL on every sync',
        field: 'url',
      },
      organizer: {
        type: 'string',
        value: 'EMAIL',
        help: 'the lecturer of events without ORGANIZER',
        field: 'defaultOrganizer',
      },
      tz: {
        type: 'string',
        value: 'ZONE',
        help: 'zone of floating times (IANA or Windows name)',
        field: 'timeZone',
      },
      'horizon-days': {
        type: 'string',
        value: 'N',
        help: 'days ahead that get meetings (1-400; default HORIZON_DAYS)',
        field: 'horizonDays',
      },
      disabled: { type: 'boolean', help: 'store it without syncing it' },
    },
    groups: [{ options: ['file', 'url'], rule: 'exactly' }],
    examples: ['feeds add maths-y1 --file maths-y1.ics --organizer ada.lovelace@uni.example'],
    load: () => import('./feeds.js').then((m) => m.add),
  },
  {
    name: 'feeds list',
    storage: true,
    usage: 'feeds list [--json]',
    summary: 'the feeds with their last run and what the guards hold',
    options: { json: json('the feeds') },
    examples: ['feeds list'],
    load: () => import('./feeds.js').then((m) => m.list),
  },
  {
    name: 'feeds remove',
    storage: true,
    usage: 'feeds remove ID [--cancel-meetings]',
    summary:
      'stops syncing a feed; its future meetings are kept unless `--cancel-meetings` (while a sync of the feed runs, that sync removes it)',
    positionals: [{ name: 'ID', help: 'the feed id' }],
    options: { 'cancel-meetings': { type: 'boolean', help: 'cancel its future meetings as a sync would' } },
    examples: ['feeds remove maths-y1 --cancel-meetings'],
    load: () => import('./feeds.js').then((m) => m.remove),
  },
  {
    name: 'feeds confirm',
    storage: true,
    usage: 'feeds confirm ID [--creations]',
    summary:
      "lets the deletion guard's held cancellations go ahead (`--creations`: the creation guard's held new meetings); `plan --feed ID` lists them first",
    positionals: [{ name: 'ID', help: 'the feed id' }],
    options: {
      creations: { type: 'boolean', help: "confirm the creation guard's held new meetings instead" },
    },
    examples: ['feeds confirm maths-y1'],
    load: () => import('./feeds.js').then((m) => m.confirm),
  },
  {
    name: 'feeds sync',
    storage: true,
    usage: 'feeds sync ID',
    summary: 'enqueues a sync of the feed (the queue worker runs it)',
    positionals: [{ name: 'ID', help: 'the feed id' }],
    options: {},
    examples: ['feeds sync maths-y1'],
    load: () => import('./feeds.js').then((m) => m.enqueue),
  },
  {
    name: 'policy grant',
    storage: true,
    usage: 'policy grant (--user EMAIL|OBJECT_ID | --global) [--at ISO]',
    summary:
      'records that an admin ran `Grant-CsApplicationAccessPolicy` (so the 403s that follow are treated as propagation)',
    options: {
      user: {
        type: 'string',
        value: 'EMAIL|OBJECT_ID',
        help: 'the lecturer the policy was granted to',
        field: 'user',
      },
      global: { type: 'boolean', help: 'the policy was granted to everyone (-Global)' },
      at: { type: 'string', value: 'ISO', help: 'when it was granted (default now)', field: 'grantedAt' },
    },
    groups: [{ options: ['user', 'global'], rule: 'exactly' }],
    examples: ['policy grant --user ada.lovelace@uni.example'],
    load: () => import('./policy.js').then((m) => m.grant),
  },
  {
    name: 'policy list',
    storage: true,
    usage: 'policy list [--json]',
    summary: 'lecturers with their policy state and blocked sessions',
    options: { json: json('the lecturers') },
    examples: ['policy list'],
    load: () => import('./policy.js').then((m) => m.list),
  },
  {
    name: 'policy script',
    storage: true,
    usage: 'policy script',
    summary: 'prints the PowerShell script that grants the missing policies',
    options: {},
    examples: ['policy script > grant.ps1'],
    load: () => import('./policy.js').then((m) => m.script),
  },
  {
    name: 'status',
    storage: true,
    usage: 'status [--json]',
    summary:
      'last run per feed, meeting states, blocked sessions by reason, poison messages, credential expiry',
    options: { json: json('the status') },
    examples: ['status'],
    load: () => import('./status.js').then((m) => m.run),
  },
  {
    name: 'attendance enable',
    storage: true,
    usage: 'attendance enable --feed ID',
    summary:
      'collects attendance after each session of the feed from now on (off by default; needs `OnlineMeetingArtifact.Read.All`: see Attendance)',
    options: { feed: { type: 'string', value: 'ID', help: 'the feed' } },
    groups: [{ options: ['feed'], rule: 'exactly' }],
    examples: ['attendance enable --feed maths-y1'],
    load: () => import('./attendance.js').then((m) => m.enable),
  },
  {
    name: 'attendance disable',
    storage: true,
    usage: 'attendance disable --feed ID',
    summary:
      "stops collecting the feed's attendance (what is stored stays until `ATTENDANCE_RETENTION_DAYS` or an erasure)",
    options: { feed: { type: 'string', value: 'ID', help: 'the feed' } },
    groups: [{ options: ['feed'], rule: 'exactly' }],
    examples: ['attendance disable --feed maths-y1'],
    load: () => import('./attendance.js').then((m) => m.disable),
  },
  {
    name: 'attendance collect',
    storage: true,
    usage: 'attendance collect [--feed ID] [--now ISO] [--json] [--verbose]',
    summary:
      'collects the attendance of ended sessions now, in this process, for one feed or every feed with attendance on. Exit status 1 when the app lacks the permission or a report could not be read',
    options: {
      feed: { type: 'string', value: 'ID', help: 'only this feed (default: every feed with attendance on)' },
      now,
      json: json('the run summaries'),
      verbose: { type: 'boolean', help: 'log every event (stderr), not only warnings' },
    },
    examples: ['attendance collect --feed maths-y1'],
    load: () => import('./attendance.js').then((m) => m.collect),
  },
  {
    name: 'attendance export',
    storage: true,
    usage:
      'attendance export --feed ID [--from DATE] [--to DATE] [--by session|student] [--format csv|json] [--out FILE]',
    summary:
      "a feed's attendance: per session (who attended, minutes, first join, last leave) or per student (sessions attended of held, total minutes), as CSV (formula-looking cells neutralised) or JSON, to stdout or `--out FILE`",
    options: {
      feed: { type: 'string', value: 'ID', help: 'the feed' },
      from: { type: 'string', value: 'DATE', help: 'sessions starting on or after this (YYYY-MM-DD or ISO)' },
      to: {
        type: 'string',
        value: 'DATE',
        help: 'sessions starting on or before this day (or before this ISO instant)',
      },
      by: {
        type: 'string',
        value: 'session|student',
        help: 'one row per attendee of each session (default) or per student',
      },
      format: { type: 'string', value: 'csv|json', help: 'the output format (default json)' },
      out: { type: 'string', value: 'FILE', help: 'write to this file (mode 600) instead of stdout' },
    },
    groups: [{ options: ['feed'], rule: 'exactly' }],
    examples: ['attendance export --feed maths-y1 --by student --format csv --out maths.csv'],
    load: () => import('./attendance.js').then((m) => m.exportAttendance),
  },
  {
    name: 'attendance erase',
    storage: true,
    usage: 'attendance erase (--email ADDRESS | --participant-id ID)',
    summary: "right to erasure: deletes one person's attendance records in every feed",
    options: {
      email: { type: 'string', value: 'ADDRESS', help: 'their e-mail address as Teams reported it' },
      'participant-id': { type: 'string', value: 'ID', help: 'their Entra object id' },
    },
    groups: [{ options: ['email', 'participant-id'], rule: 'exactly' }],
    examples: ['attendance erase --email student@uni.example'],
    load: () => import('./attendance.js').then((m) => m.erase),
  },
  {
    name: 'expand',
    usage: 'expand FILE --from YYYY-MM-DD --to YYYY-MM-DD [--format json|table] [--tz ZONE]',
    summary: 'the iCalendar engine on its own: the sessions of a file in a window',
    positionals: [{ name: 'FILE', help: 'the .ics file' }],
    options: {
      from: { type: 'string', value: 'YYYY-MM-DD', help: 'first day of the window' },
      to: { type: 'string', value: 'YYYY-MM-DD', help: 'day after the window' },
      format: { type: 'string', value: 'json|table', help: 'output format (default table)' },
      tz: {
        type: 'string',
        value: 'ZONE',
        help: 'the days are in this zone, and floating times are read in it',
      },
    },
    examples: ['expand samples/university.ics --from 2027-01-11 --to 2027-01-18'],
    load: () => import('./expand.js').then((m) => m.run),
  },
  {
    name: 'serve',
    usage: 'serve [--port N] [--host ADDR [--allow-remote]] [--no-sync] [--verbose]',
    summary:
      'the admin page and HTTP API on this machine with the real settings (queued syncs run in-process; the key is `TIMETABLE_SYNC_ADMIN_KEY` or a printed random one). Only on a loopback address unless `--allow-remote`: it is plain http',
    options: {
      port: port('7071'),
      host: { type: 'string', value: 'ADDR', help: 'the address to listen on (default 127.0.0.1)' },
      'allow-remote': {
        type: 'boolean',
        help: 'let --host be a non-loopback address (the key and the API then cross the network unencrypted)',
        requires: 'host',
      },
      'no-sync': { type: 'boolean', help: 'leave queued syncs on the queue' },
      verbose: { type: 'boolean', help: 'log every event (stderr)' },
    },
    examples: ['serve --port 8080'],
    load: () => import('./serve.js').then((m) => m.run),
  },
  {
    name: 'emulator',
    usage: 'emulator [--port N] [--propagation-seconds N] [--users FILE.json]',
    summary: 'runs the Graph emulator for manual use and prints how to point the daemon at it',
    options: {
      port: { type: 'string', value: 'N', help: 'its https port (default: a free one)' },
      'propagation-seconds': {
        type: 'string',
        value: 'N',
        help: 'how long a policy grant takes to take effect (default 1800)',
      },
      users: {
        type: 'string',
        value: 'FILE.json',
        help: 'directory users to seed: [{displayName, userPrincipalName, mail?}]',
      },
    },
    examples: ['emulator --propagation-seconds 5'],
    load: () => import('./emulator.js').then((m) => m.run),
  },
];
