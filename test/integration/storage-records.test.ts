// What only the Azure Table adapter does (the shared behaviour is the StateStore contract,
// test/integration/storage-azurite.contract.test.ts): partitions past the service's page size, and
// the rows as they are on the wire.
import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { organizerRowKey } from '../../src/storage/index.js';
import { useAzurite } from '../support/azurite.js';
import { meetingRecord } from '../support/records.js';

const azurite = useAzurite();

describe('Azure tables', () => {
  it('listByFeed follows continuation tokens past the service page size of 1000 entities', async () => {
    const store = await azurite.store();
    await store.meetings.putMany(
      Array.from({ length: 1_050 }, (_, i) => meetingRecord(i.toString(16).padStart(4, '0'))),
    );
    expect(await store.meetings.listByFeed('cs-101')).toHaveLength(1_050);
  });

  it('stores an organizer under the base64url of the normalised address, with the address as a property', async () => {
    const store = await azurite.store();
    await store.organizers.put({
      email: ' Dept/Head#1@Uni.ac.uk ',
      objectId: null,
      displayName: null,
      notFound: true,
      userType: null,
      accountEnabled: null,
      resolvedAt: 'a',
      expiresAt: 'b',
    });
    const table = TableClient.fromConnectionString(azurite.connectionString, store.names.tables.organizers, {
      allowInsecureConnection: true,
    });
    const rows = [];
    for await (const row of table.listEntities()) rows.push(row);
    expect(rows).toMatchObject([
      {
        partitionKey: 'organizer',
        rowKey: organizerRowKey('dept/head#1@uni.ac.uk'),
        email: 'dept/head#1@uni.ac.uk',
        notFound: true,
      },
    ]);
    expect(Buffer.from(rows[0]!.rowKey!, 'base64url').toString('utf8')).toBe('dept/head#1@uni.ac.uk');
    // Nulls are left out of the row, not stored.
    expect(rows[0]).not.toHaveProperty('objectId');
  });
});
