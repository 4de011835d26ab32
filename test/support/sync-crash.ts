// An in-process stand-in for a process kill: a StateStore whose every operation throws from the moment
// a chosen meetings write is attempted, as if the worker died right there (nothing after it is stored).
import type { MeetingRecord } from '../../src/core/state.js';
import type { StateStore } from '../../src/storage/index.js';

export class SimulatedKill extends Error {
  override name = 'SimulatedKill';
}

export interface KillSwitch {
  store: StateStore;
  killed(): boolean;
}

/**
 * `killAt` sees each meetings.put / putMany row (and both rows of a move); returning true kills the store before that write
 * (`when: 'before'`, the default) or right after it is stored (`'after'`: the row is in the table, the
 * caller never hears back).
 */
export function killableStore(
  inner: StateStore,
  killAt: (record: MeetingRecord) => boolean,
  options: { when?: 'before' | 'after' } = {},
): KillSwitch {
  const after = options.when === 'after';
  let dead = false;
  const check = () => {
    if (dead) throw new SimulatedKill('the process was killed');
  };
  const wrap = <T extends object>(repo: T, meetings = false): T =>
    new Proxy(repo, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          check();
          if (meetings && (property === 'put' || property === 'putMany' || property === 'move')) {
            const rows = (
              property === 'put' ? [args[0]] : property === 'move' ? args : (args[0] as unknown[])
            ) as MeetingRecord[];
            if (rows.some((row) => killAt(row))) {
              dead = true;
              if (!after) check();
              return Promise.resolve(
                (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
              ).then(() => check());
            }
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const store: StateStore = {
    ensure: () => inner.ensure(),
    names: inner.names,
    feeds: wrap(inner.feeds),
    feedLeases: wrap(inner.feedLeases),
    graphRates: wrap(inner.graphRates),
    meetings: wrap(inner.meetings, true),
    organizers: wrap(inner.organizers),
    policies: wrap(inner.policies),
    runs: wrap(inner.runs),
    deploymentKeys: wrap(inner.deploymentKeys),
    feedBodies: wrap(inner.feedBodies),
    syncQueue: wrap(inner.syncQueue),
    attendance: wrap(inner.attendance),
    attendanceQueue: wrap(inner.attendanceQueue),
  };
  return { store, killed: () => dead };
}
