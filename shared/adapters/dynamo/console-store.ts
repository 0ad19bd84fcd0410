import { createHash, randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import * as z from '../../config/zod.ts';
import type { AccountRef } from '../../domain/account.ts';
import { safeLogoUrl } from '../../domain/branding.ts';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { InviteRecord } from '../../domain/invites/invite.ts';
import type { AuditEntry, ClientBranding, ConsoleStore, StoredInvite } from '../../ports/console.ts';
import { describeIssue } from './changeset-codec.ts';
import { errorName, isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, StoreError } from './errors.ts';
import { describeKey, type ItemKey, keyAttributes, keyPart, keys } from './table.ts';

/**
 * The web side's items in the followback table:
 *
 *   pk                            sk                               what
 *   CLIENT#<clientId>             INVITE#<inviteId>                a client invite: `invite` (JSON), `version`, TTL after expiry
 *   CLIENT#<clientId>             AUDIT#<at:13>#<random>           an audit entry: `entry` (JSON), TTL = retention
 *   ACCT#<clientId>#<accountId>   UNFOLLOWED#<targetId>            someone the console unfollowed (hidden until observed), TTL
 *   CLIENT#<clientId>             BRANDING                         the client's display name, accent colour, logo URL
 */
export interface DynamoConsoleStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Audit entries are kept this long (default 400 days). */
  auditRetentionDays?: number | undefined;
  /** Invites are kept this long after they expire (default 30 days). */
  inviteTtlDaysAfterExpiry?: number | undefined;
}

type Item = Record<string, AttributeValue>;
const DAY_S = 86_400;
const finite = z.number().check(z.refine(Number.isFinite, 'must be a finite number'));
const network = z.enum(['x', 'bluesky', 'mastodon']);

const inviteSchema = z.looseObject({
  inviteId: z.string().check(z.minLength(1)),
  clientId: z.string().check(z.minLength(1)),
  network: z.optional(network),
  createdAt: finite,
  expiresAt: finite,
  createdBy: z.string(),
  status: z.enum(['open', 'spent', 'revoked']),
  spentAt: z.optional(finite),
  accountId: z.optional(z.string()),
  handle: z.optional(z.string()),
  pending: z.optional(
    z.object({
      network: z.enum(['x', 'mastodon']),
      state: z.string().check(z.minLength(1)),
      startedAt: finite,
      sealed: z.string().check(z.minLength(1)),
    }),
  ),
});

const auditSchema = z.looseObject({
  at: finite,
  clientId: z.string().check(z.minLength(1)),
  accountId: z.optional(z.string()),
  network: z.optional(network),
  actor: z.object({ kind: z.enum(['console', 'approval-link', 'cli', 'invite']), id: z.string() }),
  action: z.enum([
    'approve',
    'decline',
    'unfollow',
    'invite',
    'connect',
    'settings',
    'unfollow-refused',
    'unfollow-queued',
  ]),
  targets: z.optional(z.array(z.string())),
  detail: z.string(),
});

export const brandingSchema = z.strictObject({
  displayName: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))),
  accent: z.optional(z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour such as "#1d4fbf"'))),
  logoUrl: z.optional(z.url({ protocol: /^https$/, error: 'must be an https URL' }).check(z.maxLength(2048))),
});

/**
 * What may be written: the stored shape, with a logo every page can show (safeLogoUrl). A value
 * stored before that rule is still read (pages drop what they cannot show).
 */
const brandingWriteSchema = brandingSchema.check(
  z.refine((b) => b.logoUrl === undefined || safeLogoUrl(b.logoUrl) !== undefined, {
    path: ['logoUrl'],
    message: 'must be an https URL without credentials, spaces, quotes or brackets',
  }),
);

export const consoleKeys = {
  clientPk: (clientId: string): string => `CLIENT#${keyPart('clientId', clientId)}`,
  invite: (clientId: string, inviteId: string): ItemKey => ({
    pk: consoleKeys.clientPk(clientId),
    sk: `INVITE#${keyPart('inviteId', inviteId)}`,
  }),
  unfollowed: (ref: AccountRef, targetId: string): ItemKey => ({
    pk: keys.accountPk(ref),
    sk: `UNFOLLOWED#${keyPart('targetId', targetId)}`,
  }),
};

export class DynamoConsoleStore implements ConsoleStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #auditTtlS: number;
  readonly #inviteTtlS: number;

  constructor(options: DynamoConsoleStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#auditTtlS = Math.round((options.auditRetentionDays ?? 400) * DAY_S);
    this.#inviteTtlS = Math.round((options.inviteTtlDaysAfterExpiry ?? 30) * DAY_S);
  }

  async getInvite(clientId: string, inviteId: string): Promise<StoredInvite | undefined> {
    const itemKey = consoleKeys.invite(clientId, inviteId);
    const out = await this.#call('GetItem', describeKey(itemKey), () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyAttributes(itemKey), ConsistentRead: true }),
      ),
    );
    if (out.Item === undefined) return undefined;
    const invite = parseJson(itemKey, out.Item, 'invite', inviteSchema) as InviteRecord;
    const version = Number(out.Item.version?.N);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: no version`, {
        details: { ...itemKey },
      });
    }
    return { invite, version };
  }

  async putInvite(invite: InviteRecord, expectedVersion: number): Promise<number> {
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        details: { field: 'expectedVersion' },
      });
    }
    const itemKey = consoleKeys.invite(invite.clientId, invite.inviteId);
    const version = expectedVersion + 1;
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...keyAttributes(itemKey),
            entity: { S: 'invite' },
            invite: { S: JSON.stringify(invite) },
            version: { N: String(version) },
            expiresAt: { N: String(Math.floor(invite.expiresAt / 1000) + this.#inviteTtlS) },
          },
          ...versionCondition(expectedVersion),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`invite ${describeKey(itemKey)} is no longer at version ${expectedVersion}`, {
          cause: error,
          details: { ...itemKey, expectedVersion },
        });
      }
      throw wrap('PutItem', describeKey(itemKey), error);
    }
    return version;
  }

  async listInvites(clientId: string): Promise<InviteRecord[]> {
    const items = await this.#query(consoleKeys.clientPk(clientId), 'INVITE#');
    return items
      .map(
        (item) =>
          parseJson(
            { pk: item.pk?.S ?? '?', sk: item.sk?.S ?? '?' },
            item,
            'invite',
            inviteSchema,
          ) as InviteRecord,
      )
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async appendAudit(entry: AuditEntry, options: { key?: string | undefined } = {}): Promise<void> {
    const parsed = auditSchema.safeParse(entry);
    if (!parsed.success) {
      throw new ValidationError(`audit entry: ${parsed.error.issues.map(describeIssue).join('; ')}`, {
        details: { field: 'entry' },
      });
    }
    const itemKey: ItemKey = {
      pk: consoleKeys.clientPk(entry.clientId),
      sk: `AUDIT#${String(Math.floor(entry.at)).padStart(13, '0')}#${
        options.key === undefined
          ? randomBytes(6).toString('hex')
          : createHash('sha256').update(options.key, 'utf8').digest('hex').slice(0, 24)
      }`,
    };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...keyAttributes(itemKey),
            entity: { S: 'audit' },
            entry: { S: JSON.stringify(entry) },
            expiresAt: { N: String(Math.floor(entry.at / 1000) + this.#auditTtlS) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // A keyed entry already written: this append is the retry of one that was recorded.
      if (options.key !== undefined && isConditionFailure(error)) return;
      throw wrap('PutItem', describeKey(itemKey), error);
    }
  }

  async listAudit(clientId: string, options: { limit?: number | undefined } = {}): Promise<AuditEntry[]> {
    const items = await this.#query(consoleKeys.clientPk(clientId), 'AUDIT#', {
      descending: true,
      limit: options.limit ?? 1000,
    });
    return items.map(
      (item) =>
        parseJson({ pk: item.pk?.S ?? '?', sk: item.sk?.S ?? '?' }, item, 'entry', auditSchema) as AuditEntry,
    );
  }

  async recordUnfollow(ref: AccountRef, targetId: string, at: number): Promise<void> {
    const itemKey = consoleKeys.unfollowed(ref, targetId);
    await this.#call('PutItem', describeKey(itemKey), () =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...keyAttributes(itemKey),
            entity: { S: 'unfollowed' },
            at: { N: String(at) },
            expiresAt: { N: String(Math.floor(at / 1000) + 30 * DAY_S) },
          },
        }),
      ),
    );
  }

  async listUnfollowed(ref: AccountRef): Promise<Map<string, number>> {
    const items = await this.#query(keys.accountPk(ref), 'UNFOLLOWED#');
    return new Map(items.map((item) => [(item.sk?.S ?? '').slice('UNFOLLOWED#'.length), Number(item.at?.N)]));
  }

  async getBranding(clientId: string): Promise<ClientBranding | undefined> {
    const itemKey: ItemKey = { pk: consoleKeys.clientPk(clientId), sk: 'BRANDING' };
    const out = await this.#call('GetItem', describeKey(itemKey), () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyAttributes(itemKey), ConsistentRead: true }),
      ),
    );
    if (out.Item === undefined) return undefined;
    return parseJson(itemKey, out.Item, 'branding', brandingSchema) as ClientBranding;
  }

  async putBranding(clientId: string, branding: ClientBranding): Promise<void> {
    const parsed = brandingWriteSchema.safeParse(branding);
    if (!parsed.success) {
      throw new ValidationError(`branding: ${parsed.error.issues.map(describeIssue).join('; ')}`, {
        details: { field: 'branding' },
      });
    }
    const itemKey: ItemKey = { pk: consoleKeys.clientPk(clientId), sk: 'BRANDING' };
    await this.#call('PutItem', describeKey(itemKey), () =>
      this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...keyAttributes(itemKey),
            entity: { S: 'branding' },
            branding: { S: JSON.stringify(parsed.data) },
          },
        }),
      ),
    );
  }

  async #query(
    pk: string,
    prefix: string,
    options: { descending?: boolean; limit?: number } = {},
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#call('Query', `${pk} / ${prefix}`, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            ConsistentRead: true,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
            ScanIndexForward: !options.descending,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined && (options.limit === undefined || items.length < options.limit));
    return options.limit === undefined ? items : items.slice(0, options.limit);
  }

  async #call<T>(operation: string, what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw wrap(operation, what, error);
    }
  }
}

function parseJson<T>(itemKey: ItemKey, item: Item, attribute: string, schema: z.ZodMiniType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(item[attribute]?.S ?? '');
  } catch (cause) {
    throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: ${attribute} is not JSON`, {
      cause,
      details: { ...itemKey },
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(describeIssue).join('; ');
    throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: ${problems}`, {
      details: { ...itemKey, problems },
    });
  }
  return parsed.data;
}

function wrap(operation: string, what: string, error: unknown): Error {
  if (error instanceof ConflictError || error instanceof StoreError || error instanceof CorruptItemError)
    return error;
  return new StoreError(`${operation} on ${what} failed: ${errorName(error)}`, {
    cause: error,
    details: { operation, item: what },
  });
}
