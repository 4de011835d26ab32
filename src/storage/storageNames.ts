// The resource names of a state store (no SDK here: the in-memory store names its queues the same).
import { InvalidInputError } from './errors.js';
import { ATTENDANCE_QUEUE_NAME, POISON_SUFFIX, SYNC_QUEUE_NAME } from './names.js';

export interface StorageNames {
  tables: {
    feeds: string;
    meetings: string;
    organizers: string;
    policies: string;
    runs: string;
    deploymentKeys: string;
    attendance: string;
    attendanceSessions: string;
  };
  container: string;
  queue: string;
  poisonQueue: string;
  attendanceQueue: string;
  attendancePoisonQueue: string;
}

// Table names are alphanumeric and start with a letter; containers and queues are lower-case with
// hyphens. A lower-case alphanumeric prefix starting with a letter is valid for all three.
const NAME_PREFIX = /^[a-z][a-z0-9]{0,19}$/;

/** The resource names for a prefix ('' in production: `feeds`, …, `deploymentkeys`, `feed-bodies`, `sync-feeds`). */
export function storageNames(namePrefix = ''): StorageNames {
  if (namePrefix !== '' && !NAME_PREFIX.test(namePrefix)) {
    throw new InvalidInputError(
      'namePrefix must be 1-20 lower-case letters or digits, starting with a letter',
    );
  }
  const dashed = namePrefix ? `${namePrefix}-` : '';
  const queue = `${dashed}${SYNC_QUEUE_NAME}`;
  return {
    tables: {
      feeds: `${namePrefix}feeds`,
      meetings: `${namePrefix}meetings`,
      organizers: `${namePrefix}organizers`,
      policies: `${namePrefix}policies`,
      runs: `${namePrefix}runs`,
      deploymentKeys: `${namePrefix}deploymentkeys`,
      attendance: `${namePrefix}attendance`,
      attendanceSessions: `${namePrefix}attendancesessions`,
    },
    container: `${dashed}feed-bodies`,
    queue,
    poisonQueue: `${queue}${POISON_SUFFIX}`,
    attendanceQueue: `${dashed}${ATTENDANCE_QUEUE_NAME}`,
    attendancePoisonQueue: `${dashed}${ATTENDANCE_QUEUE_NAME}${POISON_SUFFIX}`,
  };
}
