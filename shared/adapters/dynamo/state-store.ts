import { randomBytes } from 'node:crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AccountRef } from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AccountStateStore, VersionedState } from '../../ports/store.ts';
import { isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, MissingItemError } from './errors.ts';
import { accountStateSchema, stateItemSchema, statePartItemSchema } from './schemas.ts';
import {
  type ColdState,
  decodeJsonText,
  encodeJson,
  joinState,
  sameCold,
  splitState,
} from './state-codec.ts';
import { describeKey, type ItemKey, keyAttributes, keys, statePartPrefix } from './table.ts';
import { checkItem, type Item, type TableAccess } from './table-access.ts';

/** Reads of the state before a part it names and that was replaced meanwhile is called missing. */
const READ_ATTEMPTS = 3;

/** What this store last read or wrote of an account's state: enough to write only what changed. */
interface Known {
  version: number;
  /** Sort key of the cold part the state item names, if any. */
  partSk: string | undefined;
  /** The cold part as stored in `partSk` (undefined: none stored apart). */
  storedCold: ColdState | undefined;
  /** Part items no state item names (a writer that lost a race, or crashed, left them). */
  strays: string[];
}

/**
 * The AccountStateStore port: one versioned state item per account, replaced by a conditional put,
 * laid out by state-codec.ts to stay under 1 KB (one write unit). The cold part is written first,
 * under a key of its own, and only when it changed; the state item's conditional put then names it,
 * so a writer that loses the race leaves a stray part, never a half-written state. Parts no longer
 * named are deleted after the put that replaced them, or by the next writer that finds them.
 */
export class DynamoAccountStateStore implements AccountStateStore {
  readonly #table: TableAccess;
  readonly #clock: Clock;
  readonly #known = new Map<string, Known>();

  constructor(table: TableAccess, clock: Clock) {
    this.#table = table;
    this.#clock = clock;
  }

  async getState(ref: AccountRef): Promise<VersionedState | undefined> {
    const key = keys.accountState(ref);
    for (let attempt = 1; ; attempt += 1) {
      const items = await this.#readItems(key);
      const stateItem = items.get(key.sk);
      const parts = [...items.keys()].filter((sk) => sk.startsWith(statePartPrefix));
      if (stateItem === undefined) {
        this.#known.set(key.pk, { version: 0, partSk: undefined, storedCold: undefined, strays: parts });
        return undefined;
      }
      const raw = this.#table.fromItem(key, stateItemSchema, stateItem);
      const partItem = raw.part === undefined ? undefined : items.get(raw.part);
      if (raw.part !== undefined && partItem === undefined) {
        // A writer replaced the part between the query's reads of the two items: read again.
        if (attempt < READ_ATTEMPTS) continue;
        throw new MissingItemError(`state ${describeKey(key)} names part ${raw.part}, which is missing`, {
          details: { ...key, part: raw.part },
        });
      }
      const stored = parseJson(key, raw.body === undefined ? (raw.state ?? '') : decodeText(key, raw.body));
      const storedCold = partItem === undefined ? undefined : this.#readPart(key, raw.part ?? '', partItem);
      const state = checkItem(
        key,
        accountStateSchema,
        joinState(stored as AccountState, storedCold ?? {}),
      ) as unknown as AccountState;
      this.#known.set(key.pk, {
        version: raw.version,
        partSk: raw.part,
        storedCold,
        strays: parts.filter((sk) => sk !== raw.part),
      });
      return { state, version: raw.version };
    }
  }

  async putState(ref: AccountRef, state: AccountState, expectedVersion: number): Promise<number> {
    const key = keys.accountState(ref);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        details: { field: 'expectedVersion', value: expectedVersion },
      });
    }
    const known = await this.#knownAt(ref, expectedVersion);
    const version = expectedVersion + 1;
    const { hot, cold } = splitState(state);
    const hasCold = Object.keys(cold).length > 0;
    const unchanged = known.storedCold !== undefined && sameCold(known.storedCold, cold);
    let partSk = hasCold ? known.partSk : undefined;
    let written: ItemKey | undefined;
    if (hasCold && !unchanged) {
      written = keys.accountStatePart(ref, version, randomBytes(4).toString('hex'));
      await this.#table.putItem(
        { ...keyAttributes(written), entity: { S: 'state-part' }, body: { B: encodeJson(cold) } },
        describeKey(written),
      );
      partSk = written.sk;
    }
    const item: Item = {
      ...keyAttributes(key),
      entity: { S: 'state' },
      body: { B: encodeJson(hot) },
      version: { N: String(version) },
      updatedAt: { N: String(this.#clock.now()) },
      ...(partSk === undefined ? {} : { part: { S: partSk } }),
    };
    try {
      await this.#table.client.send(
        new PutItemCommand({
          TableName: this.#table.tableName,
          Item: item,
          ...versionCondition(expectedVersion),
        }),
      );
    } catch (error) {
      this.#known.delete(key.pk);
      if (written !== undefined) await this.#deleteQuietly(written);
      if (isConditionFailure(error)) {
        throw new ConflictError(`state of ${describeKey(key)} is no longer at version ${expectedVersion}`, {
          cause: error,
          details: { ...key, expectedVersion },
        });
      }
      throw this.#table.wrap('PutItem', describeKey(key), error);
    }
    this.#known.set(key.pk, {
      version,
      partSk,
      storedCold: partSk === undefined ? undefined : cold,
      strays: [],
    });
    const replaced = known.partSk !== undefined && known.partSk !== partSk ? [known.partSk] : [];
    for (const sk of [...replaced, ...known.strays]) await this.#deleteQuietly({ pk: key.pk, sk });
    return version;
  }

  /** What is known at `expectedVersion`: from the last read or write, else read now. */
  async #knownAt(ref: AccountRef, expectedVersion: number): Promise<Known> {
    const pk = keys.accountPk(ref);
    const cached = this.#known.get(pk);
    if (cached?.version === expectedVersion) return cached;
    // Another store instance wrote since (or this one never read): the put below fails on the
    // version if the state moved on; otherwise this read names the parts to replace and clean.
    await this.getState(ref);
    const read = this.#known.get(pk);
    if (read?.version === expectedVersion) return read;
    return { version: expectedVersion, partSk: undefined, storedCold: undefined, strays: [] };
  }

  async #readItems(key: ItemKey): Promise<Map<string, Item>> {
    const items = new Map<string, Item>();
    for await (const item of this.#table.queryPrefix(key.pk, key.sk)) {
      const sk = item.sk?.S;
      if (sk !== undefined) items.set(sk, item);
    }
    return items;
  }

  #readPart(key: ItemKey, sk: string, item: Item): ColdState {
    const partKey = { pk: key.pk, sk };
    const part = this.#table.fromItem(partKey, statePartItemSchema, item);
    const cold = parseJson(partKey, decodeText(partKey, part.body));
    if (typeof cold !== 'object' || cold === null || Array.isArray(cold)) {
      throw new CorruptItemError(`corrupt item ${describeKey(partKey)}: the part is not an object`, {
        details: { ...partKey },
      });
    }
    return cold as ColdState;
  }

  /**
   * Deletes a part no state names. A failure only leaves a stray, which the next writer deletes: the
   * state itself is already safe.
   */
  async #deleteQuietly(key: ItemKey): Promise<void> {
    try {
      await this.#table.delete(key);
    } catch {
      // Left for the next writer (see above).
    }
  }
}

function decodeText(key: ItemKey, body: Uint8Array): string {
  try {
    return decodeJsonText(body);
  } catch (error) {
    throw new CorruptItemError(`corrupt item ${describeKey(key)}: the body does not inflate`, {
      cause: error,
      details: { ...key },
    });
  }
}

function parseJson(key: ItemKey, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptItemError(`corrupt item ${describeKey(key)}: state is not JSON`, {
      cause: error,
      details: { ...key },
    });
  }
}
