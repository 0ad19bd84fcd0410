import type { AccountRef, GraphKind } from '../../domain/account.ts';
import { InvariantError, ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Changeset, GraphStore, RemovalMark } from '../../ports/store.ts';
import { decodeChangeset, digestOf, encodeChangeset, maxChangesetParts } from './changeset-codec.ts';
import { CorruptItemError, MissingItemError } from './errors.ts';
import { changesetPartItemSchema, removalMarkItemSchema } from './schemas.ts';
import { describeKey, type ItemKey, keyAttributes, keys, keyWidths, padded } from './table.ts';
import {
  checkDataSize,
  deleteRequest,
  type Item,
  itemKey,
  putRequest,
  range,
  type TableAccess,
  withFence,
} from './table-access.ts';

/** Removed ids kept in a removal mark at most (bytes); more, and readers replay the changeset. */
export const removalMarkBytes = 300_000;
const day = 86_400;

export interface GraphStoreOptions {
  clock: Clock;
  /** Changesets expire this long after they were observed (default 120 days). */
  changesetTtlDays?: number | undefined;
  /** Pages of a full scan expire this long after they were written (default 7 days). */
  scanPageTtlDays?: number | undefined;
}

interface ChangesetPart {
  key: ItemKey;
  seq: number;
  part: number;
  parts: number;
  digest: string;
  at: number;
  data: Uint8Array;
}

/**
 * The GraphStore port in each account's partition (layout in table.ts): base snapshot chunks,
 * changesets (in parts, part 0 the commit record) with their removal marks, and full-scan pages.
 * Fenced writes are conditional, one item each; unfenced ones go in batches.
 */
export class DynamoGraphStore implements GraphStore {
  readonly #table: TableAccess;
  readonly #clock: Clock;
  readonly #changesetTtlSeconds: number;
  readonly #scanPageTtlSeconds: number;

  constructor(table: TableAccess, options: GraphStoreOptions) {
    this.#table = table;
    this.#clock = options.clock;
    this.#changesetTtlSeconds = Math.round((options.changesetTtlDays ?? 120) * day);
    this.#scanPageTtlSeconds = Math.round((options.scanPageTtlDays ?? 7) * day);
  }

  // ------------------------------------------------------------------------------------------
  // Base snapshot chunks

  async putBaseChunks(
    ref: AccountRef,
    kind: GraphKind,
    seq: number,
    chunks: readonly Uint8Array[],
    fence?: number,
  ): Promise<void> {
    const items = chunks.map((chunk, index) => {
      const key = keys.baseChunk(ref, kind, seq, index);
      checkDataSize(key, chunk);
      return withFence({ ...keyAttributes(key), entity: { S: 'base' }, data: { B: chunk } }, fence);
    });
    if (fence === undefined) {
      await this.#table.batchWrite(items.map(putRequest), keys.accountPk(ref));
      return;
    }
    // Fenced writes are conditional, one item each: batch writes cannot carry conditions.
    for (const item of items) await this.#table.putFenced(item, fence);
  }

  async getBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<Uint8Array[]> {
    return this.#table.getDataRange(count, (index) => keys.baseChunk(ref, kind, seq, index));
  }

  async deleteBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<void> {
    const requests = range(count).map((index) => deleteRequest(keys.baseChunk(ref, kind, seq, index)));
    await this.#table.batchWrite(requests, keys.accountPk(ref));
  }

  // ------------------------------------------------------------------------------------------
  // Changesets

  async putChangeset(ref: AccountRef, changeset: Changeset, fence?: number): Promise<void> {
    checkChangeset(changeset);
    const { parts, digest } = encodeChangeset(changeset);
    if (parts.length > maxChangesetParts) {
      throw new ValidationError(
        `changeset ${changeset.seq} needs ${parts.length} parts, more than ${maxChangesetParts}`,
        {
          details: { field: 'changeset', seq: changeset.seq },
        },
      );
    }
    const expiresAt = Math.floor(changeset.at / 1000) + this.#changesetTtlSeconds;
    const items = parts.map((data, part) => {
      const key = keys.changesetPart(ref, changeset.seq, part);
      const item: Item = {
        ...keyAttributes(key),
        entity: { S: 'changeset' },
        seq: { N: String(changeset.seq) },
        part: { N: String(part) },
        parts: { N: String(parts.length) },
        digest: { S: digest },
        at: { N: String(changeset.at) },
        data: { B: data },
        expiresAt: { N: String(expiresAt) },
      };
      if (fence !== undefined) item.fence = { N: String(fence) };
      if (part === 0) {
        // For people reading the table; the data holds the truth.
        item.kind = { S: changeset.kind };
        item.source = { S: changeset.source };
        item.addedCount = { N: String(changeset.addedCount) };
        item.removedCount = { N: String(changeset.removedCount) };
      }
      return item;
    });
    // The removal mark goes before part 0 too: a mark past the committed seq is not read.
    if (changeset.removedCount > 0) {
      const mark: Item = {
        ...keyAttributes(keys.removalMark(ref, changeset.kind, changeset.seq)),
        entity: { S: 'removal' },
        seq: { N: String(changeset.seq) },
        at: { N: String(changeset.at) },
        expiresAt: { N: String(expiresAt) },
      };
      if (changeset.removed.length <= removalMarkBytes) mark.removed = { B: changeset.removed };
      if (fence !== undefined) mark.fence = { N: String(fence) };
      items.splice(1, 0, mark);
    }
    // Part 0 goes last: it says how many parts there are, so it is the changeset's commit record.
    // A crash in between leaves parts whose digest part 0 does not know; reads then fail loudly.
    const [commit, ...rest] = items;
    if (commit === undefined) throw new InvariantError('a changeset has a part 0');
    if (fence === undefined) {
      await this.#table.batchWrite(rest.map(putRequest), keys.accountPk(ref));
      await this.#table.putItem(commit, describeKey(keys.changesetPart(ref, changeset.seq, 0)));
      return;
    }
    for (const item of [...rest, commit]) await this.#table.putFenced(item, fence);
  }

  async getChangesets(ref: AccountRef, afterSeq: number, uptoSeq: number): Promise<Changeset[]> {
    padded('afterSeq', afterSeq, keyWidths.seq);
    padded('uptoSeq', uptoSeq, keyWidths.seq);
    if (uptoSeq <= afterSeq) return [];
    const changesets: Changeset[] = [];
    const from = keys.changesetPart(ref, afterSeq + 1, 0);
    const to = keys.changesetPart(ref, uptoSeq, maxChangesetParts);
    let expected = afterSeq + 1;
    for await (const group of this.#changesetGroups(ref, from.sk, to.sk, true, this.#table.pageSize)) {
      if (group.seq !== expected) throw missingChangeset(ref, expected, afterSeq, uptoSeq);
      changesets.push(assembleChangeset(ref, group.seq, group.parts));
      expected += 1;
    }
    if (expected <= uptoSeq) throw missingChangeset(ref, expected, afterSeq, uptoSeq);
    return changesets;
  }

  async getChangesetsSince(ref: AccountRef, sinceMs: number, uptoSeq: number): Promise<Changeset[]> {
    if (!Number.isFinite(sinceMs)) {
      throw new ValidationError(`sinceMs must be a finite number, got ${sinceMs}`, {
        details: { field: 'sinceMs', value: sinceMs },
      });
    }
    const from = keys.changesetPart(ref, 0, 0);
    const to = keys.changesetPart(ref, uptoSeq, maxChangesetParts);
    const changesets: Changeset[] = [];
    // Newest first; older changesets may have expired (TTL), but none may be missing in between.
    let expected = uptoSeq;
    for await (const group of this.#changesetGroups(ref, from.sk, to.sk, false, this.#table.pageSize ?? 16)) {
      if (group.seq !== expected) throw missingChangeset(ref, expected, 0, uptoSeq);
      const changeset = assembleChangeset(ref, group.seq, group.parts);
      if (changeset.at < sinceMs) break;
      changesets.push(changeset);
      expected -= 1;
    }
    return changesets;
  }

  async getRemovalMarks(
    ref: AccountRef,
    kind: GraphKind,
    sinceMs: number,
    uptoSeq: number,
  ): Promise<RemovalMark[]> {
    padded('uptoSeq', uptoSeq, keyWidths.seq);
    if (uptoSeq < 1) return [];
    const pk = keys.accountPk(ref);
    const from = keys.removalMark(ref, kind, 1).sk;
    const to = keys.removalMark(ref, kind, uptoSeq).sk;
    const marks: RemovalMark[] = [];
    const query = this.#table.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: from }, ':to': { S: to } },
      },
      `${pk} / ${keys.removalPrefix(kind)}*`,
    );
    for await (const item of query) {
      const raw = this.#table.fromItem(itemKey(item), removalMarkItemSchema, item);
      if (raw.at < sinceMs) continue;
      marks.push({ seq: raw.seq, at: raw.at, removed: raw.removed });
    }
    return marks;
  }

  /** Changeset parts between two sort keys, grouped by seq, in query order. */
  async *#changesetGroups(
    ref: AccountRef,
    fromSk: string,
    toSk: string,
    forward: boolean,
    limit: number | undefined,
  ): AsyncGenerator<{ seq: number; parts: ChangesetPart[] }> {
    const pk = keys.accountPk(ref);
    const query = this.#table.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: fromSk }, ':to': { S: toSk } },
        ScanIndexForward: forward,
        ...(limit === undefined ? {} : { Limit: limit }),
      },
      pk,
    );
    let current: { seq: number; parts: ChangesetPart[] } | undefined;
    for await (const item of query) {
      const part = this.#changesetPartFrom(item);
      if (current !== undefined && current.seq !== part.seq) {
        yield current;
        current = undefined;
      }
      current ??= { seq: part.seq, parts: [] };
      current.parts.push(part);
    }
    if (current !== undefined) yield current;
  }

  #changesetPartFrom(item: Item): ChangesetPart {
    const key = itemKey(item);
    const match = /^CHG#(\d{10})#(\d{3})$/.exec(key.sk);
    if (match === null) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: not a changeset key`, {
        details: { ...key },
      });
    }
    const raw = this.#table.fromItem(key, changesetPartItemSchema, item);
    const seq = Number(match[1]);
    const part = Number(match[2]);
    if (raw.part !== part) {
      throw new CorruptItemError(
        `corrupt item ${describeKey(key)}: part attribute ${raw.part} does not match key`,
        {
          details: { ...key },
        },
      );
    }
    return { key, seq, part, parts: raw.parts, digest: raw.digest, at: raw.at, data: raw.data };
  }

  // ------------------------------------------------------------------------------------------
  // Scan pages

  async putScanPage(ref: AccountRef, scanId: string, page: number, ids: Uint8Array): Promise<void> {
    const key = keys.scanPage(ref, scanId, page);
    checkDataSize(key, ids);
    const expiresAt = Math.floor(this.#clock.now() / 1000) + this.#scanPageTtlSeconds;
    await this.#table.putItem(
      {
        ...keyAttributes(key),
        entity: { S: 'scan-page' },
        data: { B: ids },
        expiresAt: { N: String(expiresAt) },
      },
      describeKey(key),
    );
  }

  async getScanPages(ref: AccountRef, scanId: string, count: number): Promise<Uint8Array[]> {
    return this.#table.getDataRange(count, (page) => keys.scanPage(ref, scanId, page));
  }

  async deleteScanPages(ref: AccountRef, scanId: string, count: number): Promise<void> {
    const requests = range(count).map((page) => deleteRequest(keys.scanPage(ref, scanId, page)));
    await this.#table.batchWrite(requests, keys.accountPk(ref));
  }
}

/** Reassembles one changeset from its parts; a missing or mismatched part is an error, never a short read. */
function assembleChangeset(ref: AccountRef, seq: number, found: ChangesetPart[]): Changeset {
  const byPart = new Map(found.map((part) => [part.part, part]));
  const head = byPart.get(0);
  if (head === undefined) {
    const key = keys.changesetPart(ref, seq, 0);
    throw new MissingItemError(`missing item ${describeKey(key)}: changeset ${seq} has parts but no part 0`, {
      details: { ...key, seq },
    });
  }
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < head.parts; index++) {
    const part = byPart.get(index);
    const key = keys.changesetPart(ref, seq, index);
    if (part === undefined) {
      throw new MissingItemError(
        `missing item ${describeKey(key)}: part ${index + 1} of ${head.parts} of changeset ${seq}`,
        {
          details: { ...key, seq, part: index, parts: head.parts },
        },
      );
    }
    if (part.digest !== head.digest || part.parts !== head.parts) {
      throw new CorruptItemError(
        `corrupt item ${describeKey(key)}: belongs to another write of changeset ${seq}`,
        {
          details: { ...key, seq },
        },
      );
    }
    chunks.push(part.data);
  }
  const whole = concat(chunks);
  if (digestOf(whole) !== head.digest) {
    throw new CorruptItemError(
      `corrupt item ${describeKey(head.key)}: changeset ${seq} does not match its digest`,
      {
        details: { ...head.key, seq },
      },
    );
  }
  let changeset: Changeset;
  try {
    changeset = decodeChangeset(whole);
  } catch (error) {
    throw new CorruptItemError(`corrupt item ${describeKey(head.key)}: ${(error as Error).message}`, {
      cause: error,
      details: { ...head.key, seq },
    });
  }
  if (changeset.seq !== seq || changeset.at !== head.at) {
    throw new CorruptItemError(`corrupt item ${describeKey(head.key)}: data is changeset ${changeset.seq}`, {
      details: { ...head.key, seq },
    });
  }
  return changeset;
}

/**
 * Every committed seq has a changeset (observe commits seq + 1 with one), so a hole in a range is lost
 * data (an expired TTL under an old base, a manual delete): an error, never a silently short list.
 */
function missingChangeset(ref: AccountRef, seq: number, afterSeq: number, uptoSeq: number): MissingItemError {
  const key = keys.changesetPart(ref, seq, 0);
  return new MissingItemError(
    `missing item ${describeKey(key)}: changeset ${seq} of (${afterSeq}, ${uptoSeq}]`,
    {
      details: { ...key, seq, afterSeq, uptoSeq },
    },
  );
}

function checkChangeset(changeset: Changeset): void {
  const problems: string[] = [];
  if (!Number.isFinite(changeset.at)) problems.push('at must be a finite number');
  if (changeset.kind !== 'followers' && changeset.kind !== 'following') problems.push('kind');
  if (!['head', 'full', 'baseline', 'feed'].includes(changeset.source)) problems.push('source');
  if (!(changeset.added instanceof Uint8Array)) problems.push('added must be bytes');
  if (!(changeset.removed instanceof Uint8Array)) problems.push('removed must be bytes');
  for (const field of ['addedCount', 'removedCount'] as const) {
    if (!Number.isSafeInteger(changeset[field]) || changeset[field] < 0)
      problems.push(`${field} must be a count`);
  }
  if (!Array.isArray(changeset.profiles)) problems.push('profiles must be an array');
  if (problems.length > 0) {
    throw new ValidationError(`invalid changeset ${changeset.seq}: ${problems.join(', ')}`, {
      details: { field: 'changeset', problems },
    });
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}
