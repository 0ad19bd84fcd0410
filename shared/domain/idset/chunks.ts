import { ValidationError } from '../errors.ts';

/**
 * Largest chunk of encoded ids per DynamoDB item: the item limit is 400 KB (409,600 bytes)
 * including attribute names, keys and other attributes, so 350,000 bytes leaves ample room.
 */
export const MAX_CHUNK_BYTES = 350_000;

/**
 * Splits bytes into consecutive pieces of at most `maxBytes` (copies, safe to hand to an SDK).
 * Always returns at least one chunk (an empty one for empty input), so a stored blob always has
 * a first item to read.
 */
export function chunkBytes(bytes: Uint8Array, maxBytes: number = MAX_CHUNK_BYTES): Uint8Array[] {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new ValidationError(`maxBytes must be a positive integer, got ${maxBytes}`, {
      details: { maxBytes },
    });
  }
  if (bytes.length === 0) return [new Uint8Array(0)];
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += maxBytes) chunks.push(bytes.slice(at, at + maxBytes));
  return chunks;
}

/** The chunks concatenated in order (the inverse of chunkBytes). */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
