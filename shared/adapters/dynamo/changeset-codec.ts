import { createHash } from 'node:crypto';
import type { Changeset } from '../../ports/store.ts';
import { changesetHeaderSchema } from './schemas.ts';

/**
 * A changeset as one byte string, cut into parts that each fit in an item:
 *
 *   [1 byte format = 1][4 bytes header length, big-endian][header JSON][added bytes][removed bytes]
 *
 * The header holds everything but the id sets (seq, at, kind, source, counts, byte lengths, profiles).
 * Every part carries the digest of the whole, so parts of two different writes of the same seq are
 * never glued together.
 */
export const changesetFormat = 1;
/** Bytes of changeset data per item: well under the 400 KB item limit, with room for the key. */
export const changesetPartBytes = 350_000;
/** Parts are numbered with 3 digits in the sort key. */
export const maxChangesetParts = 999;

export interface EncodedChangeset {
  parts: Uint8Array[];
  digest: string;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeChangeset(changeset: Changeset, partBytes = changesetPartBytes): EncodedChangeset {
  const header = utf8.encode(
    JSON.stringify({
      seq: changeset.seq,
      at: changeset.at,
      kind: changeset.kind,
      source: changeset.source,
      addedCount: changeset.addedCount,
      removedCount: changeset.removedCount,
      addedBytes: changeset.added.length,
      removedBytes: changeset.removed.length,
      profiles: changeset.profiles,
      ...(changeset.refollowed?.length ? { refollowed: changeset.refollowed } : {}),
    }),
  );
  const whole = new Uint8Array(5 + header.length + changeset.added.length + changeset.removed.length);
  const view = new DataView(whole.buffer);
  view.setUint8(0, changesetFormat);
  view.setUint32(1, header.length);
  whole.set(header, 5);
  whole.set(changeset.added, 5 + header.length);
  whole.set(changeset.removed, 5 + header.length + changeset.added.length);
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < whole.length; offset += partBytes) {
    parts.push(whole.subarray(offset, Math.min(offset + partBytes, whole.length)));
  }
  return { parts, digest: digestOf(whole) };
}

/** Decodes the concatenated parts; throws an Error saying what is wrong (the store names the item). */
export function decodeChangeset(whole: Uint8Array): Changeset {
  if (whole.length < 5) throw new Error(`changeset data is ${whole.length} bytes, shorter than its header`);
  const view = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
  const format = view.getUint8(0);
  if (format !== changesetFormat) throw new Error(`unknown changeset format ${format}`);
  const headerLength = view.getUint32(1);
  if (5 + headerLength > whole.length) throw new Error('changeset header runs past the data');
  let json: unknown;
  try {
    json = JSON.parse(utf8Decoder.decode(whole.subarray(5, 5 + headerLength)));
  } catch (error) {
    throw new Error(`changeset header is not JSON: ${(error as Error).message}`);
  }
  const parsed = changesetHeaderSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`changeset header: ${parsed.error.issues.map(describeIssue).join('; ')}`);
  const header = parsed.data;
  const start = 5 + headerLength;
  if (start + header.addedBytes + header.removedBytes !== whole.length) {
    throw new Error(
      `changeset is ${whole.length} bytes, header says ${start + header.addedBytes + header.removedBytes}`,
    );
  }
  return {
    seq: header.seq,
    at: header.at,
    kind: header.kind,
    source: header.source,
    added: whole.slice(start, start + header.addedBytes),
    removed: whole.slice(start + header.addedBytes, start + header.addedBytes + header.removedBytes),
    addedCount: header.addedCount,
    removedCount: header.removedCount,
    profiles: header.profiles,
    ...(header.refollowed ? { refollowed: header.refollowed } : {}),
  };
}

export function digestOf(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}

export function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
