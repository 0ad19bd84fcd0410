import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AccountRef } from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AccountStateStore, VersionedState } from '../../ports/store.ts';
import { isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError } from './errors.ts';
import { accountStateSchema, stateItemSchema } from './schemas.ts';
import { describeKey, keyAttributes, keys } from './table.ts';
import { checkItem, type TableAccess } from './table-access.ts';

/** The AccountStateStore port: one versioned state item per account, replaced by a conditional put. */
export class DynamoAccountStateStore implements AccountStateStore {
  readonly #table: TableAccess;
  readonly #clock: Clock;

  constructor(table: TableAccess, clock: Clock) {
    this.#table = table;
    this.#clock = clock;
  }

  async getState(ref: AccountRef): Promise<VersionedState | undefined> {
    const key = keys.accountState(ref);
    const item = await this.#table.get(key);
    if (item === undefined) return undefined;
    const raw = this.#table.fromItem(key, stateItemSchema, item);
    let json: unknown;
    try {
      json = JSON.parse(raw.state);
    } catch (error) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: state is not JSON`, {
        cause: error,
        details: { ...key },
      });
    }
    const state = checkItem(key, accountStateSchema, json) as unknown as AccountState;
    return { state, version: raw.version };
  }

  async putState(ref: AccountRef, state: AccountState, expectedVersion: number): Promise<number> {
    const key = keys.accountState(ref);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        details: { field: 'expectedVersion', value: expectedVersion },
      });
    }
    const version = expectedVersion + 1;
    const item = {
      ...keyAttributes(key),
      entity: { S: 'state' },
      state: { S: JSON.stringify(state) },
      version: { N: String(version) },
      updatedAt: { N: String(this.#clock.now()) },
    };
    const condition = versionCondition(expectedVersion);
    try {
      await this.#table.client.send(
        new PutItemCommand({ TableName: this.#table.tableName, Item: item, ...condition }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`state of ${describeKey(key)} is no longer at version ${expectedVersion}`, {
          cause: error,
          details: { ...key, expectedVersion },
        });
      }
      throw this.#table.wrap('PutItem', describeKey(key), error);
    }
    return version;
  }
}
