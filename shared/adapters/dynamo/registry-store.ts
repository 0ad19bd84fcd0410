import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AccountRecord, AccountRef, AccountStatus, ClientRecord } from '../../domain/account.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { isConditionFailure } from './conditions.ts';
import { accountRecordSchema, clientRecordSchema } from './schemas.ts';
import { describeKey, type ItemKey, keyAttributes, keys, registryPk } from './table.ts';
import { deleteRequest, type Item, itemKey, stripKeys, type TableAccess } from './table-access.ts';

/**
 * The RegistryStore port: clients and accounts in the registry partition (layout in table.ts),
 * plus two operations beyond the port, the guarded status change and the purge of an account's data.
 */
export class DynamoRegistryStore implements RegistryStore {
  readonly #table: TableAccess;

  constructor(table: TableAccess) {
    this.#table = table;
  }

  async putClient(client: ClientRecord): Promise<void> {
    const key = keys.client(client.clientId);
    await this.#table.put(key, { ...client, entity: 'client' });
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const key = keys.client(clientId);
    const item = await this.#table.get(key);
    return item === undefined ? undefined : this.#clientFrom(key, item);
  }

  async listClients(): Promise<ClientRecord[]> {
    const clients: ClientRecord[] = [];
    for await (const item of this.#table.queryPrefix(registryPk, keys.clientPrefix)) {
      clients.push(this.#clientFrom(itemKey(item), item));
    }
    return clients;
  }

  async deleteClient(clientId: string): Promise<void> {
    await this.#table.delete(keys.client(clientId));
  }

  async putAccount(account: AccountRecord): Promise<void> {
    const key = keys.account(account);
    await this.#table.put(key, { ...account, entity: 'account' });
  }

  async getAccount(ref: AccountRef): Promise<AccountRecord | undefined> {
    const key = keys.account(ref);
    const item = await this.#table.get(key);
    return item === undefined ? undefined : this.#accountFrom(key, item);
  }

  async listAccounts(clientId?: string): Promise<AccountRecord[]> {
    const accounts: AccountRecord[] = [];
    for await (const item of this.#table.queryPrefix(registryPk, keys.accountPrefix(clientId))) {
      accounts.push(this.#accountFrom(itemKey(item), item));
    }
    return accounts;
  }

  /**
   * Sets the account's status, and nothing else, only if its record still exists with status
   * `from`: a removal, pause or reconnect that ran meanwhile wins (no record is brought back, no
   * other field is overwritten). Returns whether the status changed. Not part of the port: for the
   * account worker, which marks an account `token_expired` after its tick.
   */
  async setAccountStatus(
    ref: AccountRef,
    to: AccountStatus,
    options: { from: AccountStatus },
  ): Promise<boolean> {
    const key = keys.account(ref);
    try {
      await this.#table.client.send(
        new UpdateItemCommand({
          TableName: this.#table.tableName,
          Key: keyAttributes(key),
          UpdateExpression: 'SET #status = :to',
          ConditionExpression: 'attribute_exists(pk) AND #status = :from',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':to': { S: to }, ':from': { S: options.from } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) {
        return false;
      }
      throw this.#table.wrap('UpdateItem', describeKey(key), error);
    }
  }

  async deleteAccount(ref: AccountRef): Promise<void> {
    await this.#table.delete(keys.account(ref));
  }

  /**
   * Deletes every item in the account's partition (state, base chunks, changesets, scan pages and
   * whatever later issues put there) and in its credential partition (its sealed tokens). Not part
   * of the port: for `account remove` and tests. Returns the number of items deleted.
   */
  async purgeAccountData(ref: AccountRef): Promise<number> {
    let deleted = 0;
    for (const pk of [keys.accountPk(ref), keys.credentialPk(ref)]) {
      const doomed: ItemKey[] = [];
      const query = this.#table.query(
        {
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ProjectionExpression: 'pk, sk',
        },
        pk,
      );
      for await (const item of query) doomed.push(itemKey(item));
      await this.#table.batchWrite(doomed.map(deleteRequest), pk);
      deleted += doomed.length;
    }
    return deleted;
  }

  #clientFrom(key: ItemKey, item: Item): ClientRecord {
    const record = this.#table.fromItem(key, clientRecordSchema, item);
    return stripKeys(record);
  }

  #accountFrom(key: ItemKey, item: Item): AccountRecord {
    const record = stripKeys(this.#table.fromItem(key, accountRecordSchema, item));
    // Older versions stored a never-connected account as token_expired; it is not_connected.
    return record.status === 'token_expired' && record.platformUserId === UNKNOWN_PLATFORM_USER_ID
      ? { ...record, status: 'not_connected' }
      : record;
  }
}
