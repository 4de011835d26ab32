import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { InvalidInputError, restErrorInfo, toStorageError } from './errors.js';
import { requireFeedId } from './table.js';

export interface FeedBodyStore {
  /** Stores `text` as a new version (never overwriting another) and returns its version id. */
  put(feedId: string, text: string): Promise<{ version: string }>;
  /** The body of that version, or null when it does not exist. */
  get(feedId: string, version: string): Promise<string | null>;
  /** Version ids of the feed, oldest first. */
  list(feedId: string): Promise<string[]>;
  /** Deletes every version of the feed; returns how many. */
  deleteAll(feedId: string): Promise<number>;
}

/**
 * One blob per version, `feeds/{feedId}/{yyyymmddThhmmssSSSZ}-{sha256 prefix}.ics`, rather than Blob
 * versioning: Azurite does not implement versioning, and explicit names make "the current body" just
 * the FeedRecord's bodyVersion, while a rejected upload (never recorded there) changes nothing.
 */
const VERSION = /^\d{8}T\d{9}Z-[0-9a-f]{16}$/;

/** The name prefix of a feed's versions (validates the feed id). */
export function blobPrefix(feedId: string): string {
  return `feeds/${requireFeedId(feedId)}/`;
}

/** The blob name of a version (validates both). */
export function blobName(feedId: string, version: string): string {
  if (!VERSION.test(version))
    throw new InvalidInputError(`feed body version ${JSON.stringify(version.slice(0, 80))} is malformed`);
  return `${blobPrefix(feedId)}${version}.ics`;
}

/** The version id of `body` stored at `now`: sortable by time, the same for the same content then. */
export function bodyVersion(body: Buffer, now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${createHash('sha256').update(body).digest('hex').slice(0, 16)}`;
}

export function createFeedBodyStore(container: ContainerClient): FeedBodyStore {
  return {
    async put(feedId, text) {
      const body = Buffer.from(text, 'utf8');
      const version = bodyVersion(body, new Date());
      const name = blobName(feedId, version);
      try {
        await container.getBlockBlobClient(name).upload(body, body.length, {
          blobHTTPHeaders: { blobContentType: 'text/calendar; charset=utf-8' },
          // Never overwrite: the same name means the same millisecond and the same content anyway.
          conditions: { ifNoneMatch: '*' },
        });
      } catch (error) {
        const { statusCode } = restErrorInfo(error);
        if (statusCode !== 409 && statusCode !== 412)
          throw toStorageError(error, `upload ${container.containerName}/${name}`);
      }
      return { version };
    },
    async get(feedId, version) {
      const name = blobName(feedId, version);
      try {
        const body = await container.getBlobClient(name).downloadToBuffer();
        return body.toString('utf8');
      } catch (error) {
        if (restErrorInfo(error).statusCode === 404) return null;
        throw toStorageError(error, `download ${container.containerName}/${name}`);
      }
    },
    async list(feedId) {
      const prefix = blobPrefix(feedId);
      const versions: string[] = [];
      try {
        for await (const blob of container.listBlobsFlat({ prefix })) {
          versions.push(blob.name.slice(prefix.length).replace(/\.ics$/, ''));
        }
      } catch (error) {
        throw toStorageError(error, `list ${container.containerName}/${prefix}`);
      }
      return versions.sort();
    },
    async deleteAll(feedId) {
      const prefix = blobPrefix(feedId);
      let deleted = 0;
      try {
        for await (const blob of container.listBlobsFlat({ prefix })) {
          const response = await container
            .deleteBlob(blob.name, { deleteSnapshots: 'include' })
            .catch((error: unknown) => {
              if (restErrorInfo(error).statusCode === 404) return null; // deleted concurrently: fine
              throw error;
            });
          if (response) deleted++;
        }
      } catch (error) {
        throw toStorageError(error, `delete ${container.containerName}/${prefix}*`);
      }
      return deleted;
    },
  };
}
