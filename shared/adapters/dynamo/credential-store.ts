import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import * as z from '../../config/zod.ts';
import type { AccountRef } from '../../domain/account.ts';
import { ConflictError, FollowbackError, ValidationError } from '../../domain/errors.ts';
import { defined } from '../../domain/invariant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Network } from '../../ports/platform.ts';
import type { Vault, VaultContext } from '../../ports/vault.ts';
import { systemClock } from '../clock.ts';
import { type RetryPolicy, retryUntil } from '../retry.ts';
import { errorName, isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, StoreError, UnprocessedItemsError } from './errors.ts';
import { describeKey, type ItemKey, keyAttributes, keyPart, keys, registryPk } from './table.ts';

/**
 * Credentials of connected accounts, sealed by the vault, one item per (account, network):
 *
 *   pk CRED#<clientId>#<accountId>   sk CRED#<network>
 *   entity 'credential', network, scheme (vault), sealed (B), version (N), updatedAt (N)
 *
 * The credentials have a partition of their own, beside the account's `ACCT#…` partition, so the
 * public approval function can be granted the account partitions and not these (its role's
 * `dynamodb:LeadingKeys` condition, infra/table-grants.ts). Items an older version wrote in the
 * account partition (`ACCT#…` / `CRED#<network>`) are still read, and moved on first read.
 *
 * The vault context is derived from the key being read ({clientId, accountId, purpose
 * `credentials:<network>`}), so a sealed value copied onto another tenant's or account's item does
 * not open there. Plaintext exists only in memory; nothing here logs or puts it in an error.
 */
export const credentialsSchema = z.strictObject({
  /** X and Mastodon: the OAuth access token. Bluesky: the session's access JWT. */
  accessToken: z.string().check(z.minLength(1)),
  /** X: the OAuth refresh token (rotates). Bluesky: the session's refresh JWT (rotates). */
  refreshToken: z.optional(z.string().check(z.minLength(1))),
  /** Epoch ms when the access token expires, if the platform said. */
  expiresAt: z.optional(z.number().check(z.int(), z.nonnegative())),
  scope: z.optional(z.string()),
  /** Bluesky: what the owner logged in with (handle, DID or email). */
  identifier: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  /** Bluesky: the app password, to log in again when the session cannot be refreshed. */
  appPassword: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  /** Bluesky: the account's DID (the session's subject). */
  did: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  /** Bluesky: the handle the session was issued for. */
  handle: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});

export type Credentials = z.infer<typeof credentialsSchema>;

export interface StoredCredentials {
  credentials: Credentials;
  /** Monotonic version of the item; pass it back to `put` to replace exactly this pair (refresh rotation). */
  version: number;
  updatedAt: number;
}

export const credentialSkPrefix = 'CRED#';
const networks: ReadonlySet<string> = new Set<Network>(['x', 'bluesky', 'mastodon']);

export function credentialKey(ref: AccountRef, network: Network): ItemKey {
  if (!networks.has(network)) {
    throw new ValidationError(`network must be x, bluesky or mastodon, got ${String(network)}`, {
      details: { field: 'network', value: network },
    });
  }
  return { pk: keys.credentialPk(ref), sk: `${credentialSkPrefix}${network}` };
}

/** Where versions before the credential partition kept the item (read and moved on first read). */
export function legacyCredentialKey(ref: AccountRef, network: Network): ItemKey {
  const key = credentialKey(ref, network);
  return { pk: keys.accountPk(ref), sk: key.sk };
}

export function credentialContext(ref: AccountRef, network: Network): VaultContext {
  return { clientId: ref.clientId, accountId: ref.accountId, purpose: `credentials:${network}` };
}

const itemSchema = z.object({
  sealed: z.object({ B: z.instanceof(Uint8Array) }),
  version: z.object({ N: z.string().check(z.regex(/^\d+$/)) }),
  updatedAt: z.object({ N: z.string().check(z.regex(/^\d+$/)) }),
});

export interface CredentialStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  vault: Vault;
  clock?: Clock | undefined;
}

/** Resubmitting unprocessed deletes: 8 calls, waits doubling from 25 ms, no jitter. */
const deletePolicy: RetryPolicy = { attempts: 8, baseMs: 25, capMs: Number.POSITIVE_INFINITY };

export class DynamoCredentialStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #vault: Vault;
  readonly #clock: Clock;

  constructor(options: CredentialStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#vault = options.vault;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Seals and stores the account's credentials. With `expectedVersion`, only if the stored item is
   * still at that version (0: none stored yet), else ConflictError: a refreshed pair is persisted
   * exactly once. Returns the new version.
   */
  async put(
    ref: AccountRef,
    network: Network,
    credentials: Credentials,
    expectedVersion?: number,
  ): Promise<number> {
    const key = credentialKey(ref, network);
    const checked = credentialsSchema.safeParse(credentials);
    if (!checked.success) {
      const fields = checked.error.issues.map((issue) => issue.path.join('.') || 'credentials').join(', ');
      throw new ValidationError(`invalid credentials for ${describeKey(key)}: ${fields}`, {
        details: { ...key, fields },
      });
    }
    const current = expectedVersion ?? (await this.#currentVersion(key));
    const sealed = await this.#vault.seal(JSON.stringify(checked.data), credentialContext(ref, network));
    const version = current + 1;
    const condition = expectedVersion === undefined ? {} : versionCondition(expectedVersion);
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...keyAttributes(key),
            entity: { S: 'credential' },
            network: { S: network },
            scheme: { S: this.#vault.scheme },
            sealed: { B: sealed },
            version: { N: String(version) },
            updatedAt: { N: String(this.#clock.now()) },
          },
          ...condition,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          `credentials ${describeKey(key)} are no longer at version ${expectedVersion}`,
          {
            cause: error,
            details: { ...key, expectedVersion },
          },
        );
      }
      throw wrap('PutItem', key, this.#table, error);
    }
    // A new connect replaces whatever an older version left in the account partition.
    if (expectedVersion === undefined) await this.#deleteKeys([legacyCredentialKey(ref, network)]);
    return version;
  }

  /** The account's credentials, opened; undefined when none are stored. VaultOpenError if they do not open here. */
  async get(ref: AccountRef, network: Network): Promise<StoredCredentials | undefined> {
    const key = credentialKey(ref, network);
    const item = (await this.#getItem(key)) ?? (await this.#moveLegacy(ref, network));
    if (item === undefined) return undefined;
    const raw = itemSchema.safeParse(item);
    if (!raw.success) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: not a credential item`, {
        details: { ...key },
      });
    }
    const text = await this.#vault.open(raw.data.sealed.B, credentialContext(ref, network));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: opened credentials are not JSON`, {
        details: { ...key },
      });
    }
    const parsed = credentialsSchema.safeParse(json);
    if (!parsed.success) {
      // Name the fields only: the values are secrets.
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || 'credentials').join(', ');
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: opened credentials lack ${fields}`, {
        details: { ...key, fields },
      });
    }
    return {
      credentials: parsed.data,
      version: Number(raw.data.version.N),
      updatedAt: Number(raw.data.updatedAt.N),
    };
  }

  /** Removes one network's credentials of the account (absent is fine). */
  async delete(ref: AccountRef, network: Network): Promise<void> {
    await this.#deleteKeys([credentialKey(ref, network), legacyCredentialKey(ref, network)]);
  }

  /** Removes every credential item of the account (old layout too); returns how many there were. */
  async deleteAccount(ref: AccountRef): Promise<number> {
    const doomed: ItemKey[] = [];
    for (const pk of [keys.credentialPk(ref), keys.accountPk(ref)]) {
      for await (const item of this.#query(pk, credentialSkPrefix)) doomed.push(itemKey(item));
    }
    await this.#deleteKeys(doomed);
    return doomed.length;
  }

  /**
   * An item of the old layout, copied to the credential partition (unless something is there by
   * now) and removed from the account partition; the copy keeps its version, so a refresh that
   * read it still replaces exactly that pair. Undefined when there is none.
   */
  async #moveLegacy(ref: AccountRef, network: Network): Promise<Record<string, AttributeValue> | undefined> {
    const legacy = legacyCredentialKey(ref, network);
    const item = await this.#getItem(legacy);
    if (item === undefined) return undefined;
    const key = credentialKey(ref, network);
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { ...item, ...keyAttributes(key) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // Moved meanwhile by another reader: the moved item is the one to read.
      if (isConditionFailure(error)) return this.#getItem(key);
      throw wrap('PutItem', key, this.#table, error);
    }
    await this.#deleteKeys([legacy]);
    return item;
  }

  /**
   * Removes the credentials of every account the registry lists for the client ("removing a client
   * removes its tokens"). Call it before deleting the account records, which it reads to find them.
   */
  async deleteClient(clientId: string): Promise<number> {
    const prefix = keys.accountPrefix(keyPart('clientId', clientId));
    let removed = 0;
    for await (const item of this.#query(registryPk, prefix)) {
      const accountId = itemKey(item).sk.slice(prefix.length);
      removed += await this.deleteAccount({ clientId, accountId });
    }
    return removed;
  }

  async #currentVersion(key: ItemKey): Promise<number> {
    const item = await this.#getItem(key, 'version');
    const version = item?.version?.N;
    return version === undefined ? 0 : Number(version);
  }

  async #getItem(key: ItemKey, projection?: string): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const out = await this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: keyAttributes(key),
          ConsistentRead: true,
          ...(projection === undefined
            ? {}
            : { ProjectionExpression: '#p', ExpressionAttributeNames: { '#p': projection } }),
        }),
      );
      return out.Item;
    } catch (error) {
      throw wrap('GetItem', key, this.#table, error);
    }
  }

  async *#query(pk: string, prefix: string): AsyncGenerator<Record<string, AttributeValue>> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            ConsistentRead: true,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
            ProjectionExpression: 'pk, sk',
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      } catch (error) {
        throw wrap('Query', { pk, sk: `${prefix}*` }, this.#table, error);
      }
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async #deleteKeys(doomed: ItemKey[]): Promise<void> {
    for (let offset = 0; offset < doomed.length; offset += 25) {
      let pending: WriteRequest[] = doomed
        .slice(offset, offset + 25)
        .map((key) => ({ DeleteRequest: { Key: keyAttributes(key) } }));
      const outcome = await retryUntil(
        async () => {
          const batch = pending;
          try {
            const out = await this.#client.send(
              new BatchWriteItemCommand({ RequestItems: { [this.#table]: batch } }),
            );
            pending = out.UnprocessedItems?.[this.#table] ?? [];
          } catch (error) {
            throw wrap(
              'BatchWriteItem',
              defined(doomed[offset], 'the first key of a batch'),
              this.#table,
              error,
            );
          }
          return pending;
        },
        (left) => left.length === 0,
        deletePolicy,
      );
      if (!outcome.settled) {
        throw new UnprocessedItemsError(`${pending.length} credential deletes still unprocessed`, {
          details: { attempts: outcome.attempts },
        });
      }
    }
  }
}

function itemKey(item: Record<string, AttributeValue>): ItemKey {
  return { pk: item.pk?.S ?? '', sk: item.sk?.S ?? '' };
}

function wrap(operation: string, key: ItemKey, table: string, error: unknown): FollowbackError {
  if (error instanceof FollowbackError) return error;
  return new StoreError(`${operation} on ${describeKey(key)} in table ${table} failed: ${errorName(error)}`, {
    cause: error,
    details: { operation, ...key, table },
  });
}
