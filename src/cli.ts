// `timetable-sync` command: the process around ./cli/main.ts, which finds the command in the table
// (./cli/commands.ts), answers `--help` from it, checks the words against it (./cli/args.ts), then loads
// only that command's module (the emulator or Azurite are never imported by `expand` or by any `--help`).
import { runCli } from './cli/main.js';

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
