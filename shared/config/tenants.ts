import {
  type AccountRecord,
  type AccountStatus,
  type ClientRecord,
  normalizeInstanceUrl,
} from '../domain/account.ts';
import { isDigestLocale } from '../domain/digest/format.ts';
import { isValidTimeZone } from '../domain/engine/quiet-hours.ts';
import { ValidationError } from '../domain/errors.ts';
import { defined } from '../domain/invariant.ts';
import {
  DEFAULT_DIGEST_DAY,
  DEFAULT_DIGEST_HOUR,
  normalizeTenantHandle,
  sameHandle,
  TENANT_ID_PATTERN,
  TENANT_ID_RULE,
  UNKNOWN_PLATFORM_USER_ID,
  WEEKDAYS,
  weekdayName,
  weekdayNumber,
} from '../domain/tenants/tenant.ts';
import { hasUnsafeCharacters } from '../domain/text.ts';
import type { Network } from '../ports/platform.ts';
import { observeSettingsSchema, resolveObserveSettings } from './observe-settings.ts';
import { resolvePolicy } from './policy.ts';
import * as z from './zod.ts';
import { $ZodError } from './zod.ts';

/**
 * Clients and accounts as people declare them (clients.yaml, CLI options), validated, and turned
 * into the records the registry stores. The CLI's add/update commands and `apply` go through the
 * same schemas and builders, so a value refused in one is refused in the other with the same words.
 */

export const tenantIdSchema = z.string().check(z.regex(TENANT_ID_PATTERN, `must be ${TENANT_ID_RULE}`));

const email = z.email('must be an email address');

/** A weekday as a name (`mon`, `Friday`) or an ISO number (1 = Monday ... 7 = Sunday). */
const weekdaySchema = z.union([
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((day) => day.trim().toLowerCase().slice(0, 3)),
    ),
    z.enum(WEEKDAYS, { error: `must be a weekday (${WEEKDAYS.join(', ')}) or 1-7` }),
  ),
  z.pipe(
    z.number().check(z.int(), z.gte(1), z.lte(7)),
    z.transform((n) => weekdayName(n)),
  ),
]);

export const digestSpecSchema = z.strictObject({
  emails: z._default(z.array(email).check(z.maxLength(50)), []),
  day: z._default(weekdaySchema, DEFAULT_DIGEST_DAY),
  hour: z._default(z.number().check(z.int(), z.gte(0), z.lte(23)), DEFAULT_DIGEST_HOUR),
});

const timeZoneSchema = z
  .string()
  .check(z.refine(isValidTimeZone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"'));

const localeSchema = z.string().check(
  z.minLength(2),
  z.maxLength(35),
  z.refine((tag) => {
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  }, 'must be a BCP 47 locale such as "en-GB" or "en-US"'),
  z.refine(
    isDigestLocale,
    'must be an English locale such as "en-GB", "en-US" or "en-IE": the digest is written in English only (the locale sets how its dates and numbers read)',
  ),
);

/** Names and handles reach terminals, mail and spreadsheets: no controls, bidi controls or line breaks. */
const printable = (value: string) => !hasUnsafeCharacters(value);
const NOT_PRINTABLE = 'must not contain control characters, bidi controls or line breaks';

/**
 * A client's own X developer app: its OAuth 2.0 Client ID, whether it is a confidential client
 * (its secret is then set with `followback x-app secret`, never here), and the account that owns
 * it, whose reads X bills as owned.
 */
export const xAppSpecSchema = z.strictObject({
  clientId: z.string().check(z.refine(printable, NOT_PRINTABLE), z.trim(), z.minLength(1), z.maxLength(200)),
  confidential: z._default(z.boolean(), false),
  ownedBy: z.optional(tenantIdSchema),
});

export const clientSpecSchema = z.strictObject({
  name: z.optional(
    z.string().check(z.refine(printable, NOT_PRINTABLE), z.trim(), z.minLength(1), z.maxLength(200)),
  ),
  /** The client's own X app (default: the deployment's). */
  xApp: z.optional(xAppSpecSchema),
  timeZone: timeZoneSchema,
  /** Dates and numbers of the digest (default en-GB). */
  locale: z.optional(localeSchema),
  digest: z._default(digestSpecSchema, { emails: [], day: DEFAULT_DIGEST_DAY, hour: DEFAULT_DIGEST_HOUR }),
});

/** Platform ids are strings (X ids exceed 2^53); a YAML number that is a safe integer is accepted. */
const platformUserIdSchema = z.union([
  z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
  z.pipe(
    z
      .number()
      .check(
        z.int(),
        z.nonnegative(),
        z.refine(Number.isSafeInteger, 'must be quoted: platform ids are larger than a YAML number can hold'),
      ),
    z.transform(String),
  ),
]);

export const accountSpecSchema = z.strictObject({
  network: z.enum(['x', 'bluesky', 'mastodon'], { error: 'must be x, bluesky or mastodon' }),
  handle: z
    .pipe(
      z.string().check(z.refine(printable, NOT_PRINTABLE), z.trim(), z.minLength(1), z.maxLength(320)),
      z.transform(normalizeTenantHandle),
    )
    .check(z.refine((handle) => handle.length > 0 && !/\s/.test(handle), 'must be a handle such as "acme"')),
  platformUserId: z.optional(
    platformUserIdSchema.check(z.refine((id) => id !== UNKNOWN_PLATFORM_USER_ID, 'must be the platform id')),
  ),
  /** Paused accounts are kept but not worked on. */
  paused: z._default(z.boolean(), false),
  /** Overrides of the network's default follow-back policy (validated by resolvePolicy). */
  policy: z.optional(z.record(z.string(), z.unknown())),
  /** Overrides of the network's default observe settings. */
  observe: z.optional(z.strictObject(z.partial(observeSettingsSchema).shape)),
  /**
   * Mastodon: the instance (`example.social`, `https://example.social`); Bluesky: a PDS other than
   * the deployment's default service. Stored as an origin (`instanceUrl`).
   */
  instance: z.optional(
    z.pipe(
      z.string(),
      z.transform((raw, ctx) => {
        try {
          return normalizeInstanceUrl(raw);
        } catch (error) {
          ctx.issues.push({
            code: 'custom',
            message: (error as Error).message.replace(/^instance /, ''),
            input: raw,
          });
          return z.NEVER;
        }
      }),
    ),
  ),
});

export type ClientSpec = z.infer<typeof clientSpecSchema>;
export type ClientSpecInput = z.input<typeof clientSpecSchema>;
export type AccountSpec = z.infer<typeof accountSpecSchema>;
export type AccountSpecInput = z.input<typeof accountSpecSchema>;

/** One thing wrong with a declaration: where (a path inside it) and what. */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
}

/** A client or account declaration is invalid; `issues` name each field. Nothing was written. */
export class TenantSpecError extends ValidationError {
  override readonly name = 'TenantSpecError';
  readonly issues: SpecIssue[];

  constructor(label: string, issues: SpecIssue[]) {
    super(
      `invalid ${label}: ${issues.map((i) => `${i.path.length ? i.path.join('.') : label}: ${i.message}`).join('; ')}`,
      { details: { issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } },
    );
    this.issues = issues;
  }
}

export function zodIssues(
  error: { issues: readonly z.core.$ZodIssue[] },
  prefix: (string | number)[] = [],
): SpecIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` };
    }
    if (issue.code === 'invalid_type') return { path, message: typeMessage(issue) };
    return { path, message: issue.message };
  });
}

const KIND_NAMES: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map of fields',
  record: 'a map of fields',
  array: 'a list',
};

/**
 * zod's "Invalid input: expected string, received undefined" in words a person reads: a field left
 * out "is required"; one of the wrong kind says what it must be.
 */
function typeMessage(issue: z.core.$ZodIssueInvalidType): string {
  const expected = KIND_NAMES[issue.expected] ?? issue.expected;
  if (/received undefined$/.test(issue.message)) return `is required (${expected})`;
  const received = /received (\w+)$/.exec(issue.message)?.[1];
  return `must be ${expected}${received === undefined ? '' : `, not ${KIND_NAMES[received] ?? received}`}`;
}

export function parseClientSpec(input: unknown, label = 'client'): ClientSpec {
  const result = clientSpecSchema.safeParse(input);
  if (!result.success) throw new TenantSpecError(label, zodIssues(result.error));
  return result.data;
}

export function parseAccountSpec(input: unknown, label = 'account'): AccountSpec {
  const result = accountSpecSchema.safeParse(input);
  if (!result.success) throw new TenantSpecError(label, zodIssues(result.error));
  return result.data;
}

/**
 * The client record a declaration stands for. Attributes it does not manage (the digest opt-out an
 * unsubscribe link set, fields of later versions) are kept.
 */
export function buildClientRecord(
  clientId: string,
  spec: ClientSpec,
  existing: ClientRecord | undefined,
  now: number,
): ClientRecord {
  const id = tenantIdSchema.safeParse(clientId);
  if (!id.success) throw new TenantSpecError('client', [{ path: ['id'], message: firstIssue(id.error) }]);
  return {
    ...existing,
    clientId,
    name: spec.name ?? existing?.name ?? clientId,
    timeZone: spec.timeZone,
    digestEmails: [...spec.digest.emails],
    digestWeekday: weekdayNumber(spec.digest.day),
    digestHour: spec.digest.hour,
    locale: spec.locale,
    xApp: spec.xApp === undefined ? undefined : { ...spec.xApp },
    createdAt: existing?.createdAt ?? now,
  };
}

/** The declaration a stored client record stands for (to update it field by field). */
export function clientSpecOf(client: ClientRecord): ClientSpec {
  return {
    name: client.name,
    timeZone: client.timeZone,
    ...(client.locale === undefined ? {} : { locale: client.locale }),
    ...(client.xApp === undefined ? {} : { xApp: { ...client.xApp } }),
    digest: {
      emails: [...client.digestEmails],
      day: weekdayName(client.digestWeekday),
      hour: client.digestHour ?? DEFAULT_DIGEST_HOUR,
    },
  };
}

/**
 * The account record a declaration stands for. Throws TenantSpecError naming each bad field
 * (paths relative to the declaration: `policy.caps.perDay`, `observe.detectionDelayHours`, ...).
 *
 * - `policy` is stored as overrides, with the client's time zone unless it sets its own.
 * - `observe` is stored resolved (the network's defaults with the overrides).
 * - The platform user id: the declared one, else the stored one, else UNKNOWN_PLATFORM_USER_ID.
 *   A connected account's id cannot be changed by a declaration, nor an account's network.
 * - Status: `paused` when declared so; a paused account unpaused becomes `active` if it was ever
 *   connected, else `not_connected`; a new account is `not_connected` until `followback connect`
 *   stores its tokens; otherwise the stored status stays.
 */
export function buildAccountRecord(
  client: Pick<ClientRecord, 'clientId' | 'timeZone'>,
  accountId: string,
  spec: AccountSpec,
  existing: AccountRecord | undefined,
  now: number,
): AccountRecord {
  const issues: SpecIssue[] = [];
  const id = tenantIdSchema.safeParse(accountId);
  if (!id.success) issues.push({ path: ['id'], message: firstIssue(id.error) });
  const network: Network = spec.network;
  if (existing && existing.network !== network) {
    issues.push({
      path: ['network'],
      message: `is ${network} but the account is on ${existing.network}; remove the account and add it again to change its network`,
    });
  }
  const storedId = existing?.platformUserId;
  if (
    spec.platformUserId !== undefined &&
    storedId !== undefined &&
    storedId !== UNKNOWN_PLATFORM_USER_ID &&
    storedId !== spec.platformUserId
  ) {
    issues.push({
      path: ['platformUserId'],
      message: `is ${spec.platformUserId} but the connected account is ${storedId}; remove the account and add it again to change who it is`,
    });
  }
  if (
    network === 'mastodon' &&
    spec.instance === undefined &&
    existing?.instanceUrl === undefined &&
    !spec.handle.includes('@')
  ) {
    issues.push({
      path: ['instance'],
      message:
        'a Mastodon account needs its instance: add instance: example.social (or write the handle as name@example.social)',
    });
  }
  if (spec.instance !== undefined && network === 'x') {
    issues.push({ path: ['instance'], message: 'only Mastodon and Bluesky accounts name an instance' });
  }
  if (
    spec.instance !== undefined &&
    existing?.instanceUrl !== undefined &&
    existing.instanceUrl !== spec.instance &&
    storedId !== undefined &&
    storedId !== UNKNOWN_PLATFORM_USER_ID
  ) {
    issues.push({
      path: ['instance'],
      message: `is ${spec.instance} but the connected account is on ${existing.instanceUrl}; remove the account and add it again to move it`,
    });
  }
  // The handle a connected account has is the network's (connect stores it): the file may write it
  // another way (any case, a Mastodon name without its host), but not name someone else.
  const instanceUrl = spec.instance ?? existing?.instanceUrl;
  const sameAsStored =
    existing !== undefined && sameHandle({ network, instanceUrl }, spec.handle, existing.handle);
  if (
    existing !== undefined &&
    !sameAsStored &&
    storedId !== undefined &&
    storedId !== UNKNOWN_PLATFORM_USER_ID
  ) {
    issues.push({
      path: ['handle'],
      message: `is ${spec.handle} but the connected account is @${existing.handle} (its handle on ${network}, as connect found it): write handle: ${existing.handle}`,
    });
  }
  const policy: Record<string, unknown> = { timeZone: client.timeZone, ...(spec.policy ?? {}) };
  try {
    resolvePolicy(network, policy);
  } catch (error) {
    issues.push(...causeIssues(error, ['policy']));
  }
  let observe: AccountRecord['observe'] | undefined;
  try {
    observe = resolveObserveSettings(network, spec.observe ?? {});
  } catch (error) {
    issues.push(...causeIssues(error, ['observe']));
  }
  if (issues.length > 0 || observe === undefined) throw new TenantSpecError(`account ${accountId}`, issues);

  const platformUserId = spec.platformUserId ?? storedId ?? UNKNOWN_PLATFORM_USER_ID;
  return {
    ...existing,
    clientId: client.clientId,
    accountId,
    network,
    platformUserId,
    handle: sameAsStored ? existing.handle : spec.handle,
    status: statusFor(spec, existing, platformUserId),
    observe,
    policy,
    createdAt: existing?.createdAt ?? now,
    ...(spec.instance === undefined ? {} : { instanceUrl: spec.instance }),
  };
}

function statusFor(
  spec: AccountSpec,
  existing: AccountRecord | undefined,
  platformUserId: string,
): AccountStatus {
  if (spec.paused) return 'paused';
  if (existing === undefined) return 'not_connected';
  if (existing.status === 'paused')
    return platformUserId === UNKNOWN_PLATFORM_USER_ID ? 'not_connected' : 'active';
  return existing.status;
}

/** The declaration a stored account record stands for (to update it field by field). */
export function accountSpecOf(account: AccountRecord): AccountSpec {
  return {
    network: account.network,
    handle: account.handle,
    ...(account.platformUserId === UNKNOWN_PLATFORM_USER_ID
      ? {}
      : { platformUserId: account.platformUserId }),
    paused: account.status === 'paused',
    policy: { ...(account.policy ?? {}) },
    observe: { ...account.observe },
    ...(account.instanceUrl === undefined ? {} : { instance: account.instanceUrl }),
  };
}

/** Issues from a ConfigError whose cause is a ZodError (resolvePolicy, resolveObserveSettings). */
function causeIssues(error: unknown, prefix: (string | number)[]): SpecIssue[] {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof $ZodError) return zodIssues(cause, prefix);
  const message = (error as Error).message.replace(/^invalid [a-z ]+: (?:[a-zA-Z.]+: )?/, '');
  return [{ path: prefix, message }];
}

/** The message of the first issue of a failed parse (zod reports at least one). */
function firstIssue(error: $ZodError): string {
  return defined(error.issues[0], 'an issue of a failed parse').message;
}
