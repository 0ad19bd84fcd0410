import { isMap, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { type AccountRecord, accountKey, type ClientRecord } from '../domain/account.ts';
import { isValidTimeZone } from '../domain/engine/quiet-hours.ts';
import { ValidationError } from '../domain/errors.ts';
import type { RegistryContents } from '../domain/tenants/plan.ts';
import { handleKey, UNKNOWN_PLATFORM_USER_ID } from '../domain/tenants/tenant.ts';
import {
  type AccountSpec,
  accountSpecSchema,
  buildAccountRecord,
  buildClientRecord,
  clientSpecSchema,
  type SpecIssue,
  TenantSpecError,
  tenantIdSchema,
  zodIssues,
} from './tenants.ts';
import * as z from './zod.ts';

/**
 * clients.yaml: the agency's clients and their accounts, kept in git and applied with
 * `followback apply`. Clients and accounts are maps keyed by id, so ids are unique by construction
 * and an error can name `clients.acme.accounts.x-acme.policy.mode`:
 *
 *   version: 1
 *   clients:
 *     acme:
 *       name: Acme Bakery
 *       timeZone: Europe/Berlin
 *       locale: en-US                         # optional; English only: digest dates and numbers (default en-GB)
 *       digest: { emails: [owner@acme.example], day: mon, hour: 8 }   # day: mon..sun or 1-7
 *       accounts:
 *         x-acme:
 *           network: x
 *           handle: acme
 *           platformUserId: "1234567890"     # optional; connect learns it
 *           paused: false                     # optional
 *           policy: { mode: approve, promise: { withinHours: 48 } }
 *           observe: { detectionDelayHours: 12 }
 *
 * Every error names the field and its line and column; nothing is applied while any remains.
 */

const emptyAsNothing = (value: unknown) => (value === null ? undefined : value);

export const clientEntrySchema = z.extend(clientSpecSchema, {
  accounts: z.pipe(z.transform(emptyAsNothing), z._default(z.record(tenantIdSchema, accountSpecSchema), {})),
});

export const clientsFileSchema = z.strictObject({
  /** Required, so a file of a later format (or a stray YAML file) is never applied as this one. */
  version: z.literal(1, {
    error: (issue) =>
      issue.input === undefined
        ? 'is required: start the file with `version: 1`'
        : 'must be 1 (the only version of clients.yaml so far)',
  }),
  clients: z.pipe(z.transform(emptyAsNothing), z._default(z.record(tenantIdSchema, clientEntrySchema), {})),
});

export type ClientsFile = z.infer<typeof clientsFileSchema>;

export interface FileIssue extends SpecIssue {
  line?: number | undefined;
  col?: number | undefined;
}

/** clients.yaml is not valid YAML or not a valid declaration; `issues` say where and what. */
export class ClientsFileError extends ValidationError {
  override readonly name = 'ClientsFileError';
  readonly issues: FileIssue[];

  constructor(source: string, issues: FileIssue[]) {
    const lines = issues.map((issue) => `  ${formatIssue(source, issue)}`);
    super(
      `${source} is not valid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      {
        details: { source, issues: issues.map((i) => ({ ...i, path: i.path.join('.') })) },
      },
    );
    this.issues = issues;
  }
}

export function formatIssue(source: string, issue: FileIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}:${issue.col ?? 1}`;
  const path = issue.path.length ? issue.path.join('.') : '(file)';
  return `${where}: ${path}: ${issue.message}`;
}

export interface ParsedClientsFile {
  source: string;
  file: ClientsFile;
  stored: StoredContext;
  /** Line and column of a path in the file (of the nearest part of it that is there). */
  locate(path: readonly (string | number)[]): { line: number; col: number } | undefined;
}

/** What is stored already: handles the file declares are checked against its accounts too. */
export interface StoredContext {
  accounts: readonly AccountRecord[];
  /** With --prune, stored accounts the file does not list go away, so they hold no handle. */
  prune: boolean;
}

/**
 * Parses and validates clients.yaml text; ClientsFileError naming each problem with its line. Every
 * problem is reported at once: fields, policies, and handles declared twice (in the file, or taken
 * by an account of the registry the file keeps).
 */
export function parseClientsFile(
  text: string,
  source = 'clients.yaml',
  stored: StoredContext = { accounts: [], prune: false },
): ParsedClientsFile {
  if (text.trim() === '' || /^(?:\s*#.*\n?)*\s*$/.test(text)) {
    throw new ClientsFileError(source, [
      {
        path: [],
        message: 'the file is empty: nothing to apply (write `version: 1` and `clients:`; see the README)',
      },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ClientsFileError(
      source,
      doc.errors.map((error) => ({
        path: [],
        message: (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, ''),
        line: error.linePos?.[0]?.line,
        col: error.linePos?.[0]?.col,
      })),
    );
  }
  // `__proto__` is no id and no setting, and a JavaScript object cannot hold it as a key: it would
  // vanish on the way into the schema. Refuse it where it is written.
  const forbidden: FileIssue[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === '__proto__') {
        const at = pair.key.range ? lineCounter.linePos(pair.key.range[0]) : undefined;
        forbidden.push({ path: [], message: '"__proto__" is not allowed as a key', ...at });
      }
    },
  });
  if (forbidden.length > 0) throw new ClientsFileError(source, forbidden);
  const locate = (path: readonly (string | number)[], key?: string) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
      if (node?.range === undefined || node.range === null) continue;
      if (key !== undefined && depth === path.length && isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
        const keyNode = pair?.key as Node | undefined;
        if (keyNode?.range) return lineCounter.linePos(keyNode.range[0]);
      }
      return lineCounter.linePos(node.range[0]);
    }
    return undefined;
  };
  let json: unknown;
  try {
    json = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new ClientsFileError(source, [{ path: [], message: (error as Error).message }]);
  }
  // Long ids written as YAML numbers lose digits; take their text instead.
  keepIdDigits(json, doc);
  const result = clientsFileSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue): FileIssue[] => {
      const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      return zodIssues({ issues: [issue] }).map((converted) => ({
        ...converted,
        ...locate(converted.path, key),
      }));
    });
    // Say also what is wrong in the policies and observe settings of accounts that parse, and which
    // handles are declared twice, so one round of fixes suffices.
    const declared: DeclaredHandle[] = [];
    for (const [clientId, accountId, spec, timeZone] of accountsThatParse(json)) {
      declared.push({
        clientId,
        accountId,
        network: spec.network,
        handle: spec.handle,
        instance: spec.instance,
      });
      try {
        buildAccountRecord({ clientId, timeZone }, accountId, spec, undefined, 0);
      } catch (error) {
        if (!(error instanceof TenantSpecError)) throw error;
        for (const issue of error.issues) {
          const path = ['clients', clientId, 'accounts', accountId, ...issue.path];
          issues.push({ path, message: issue.message, ...locate(path) });
        }
      }
    }
    for (const { path, message } of handleIssues(declared, stored))
      issues.push({ path, message, ...locate(path) });
    throw new ClientsFileError(source, byLine(issues));
  }
  return { source, file: result.data, stored, locate: (path) => locate(path) };
}

/** An account's handle as declared (Mastodon: with its instance, or as name@instance). */
interface DeclaredHandle {
  clientId: string;
  accountId: string;
  network: string;
  handle: string;
  instance?: string | undefined;
}

/**
 * Handles declared twice: twice in the file, or once in the file and once by a stored account that
 * stays (one the file does not list, unless pruned).
 */
function handleIssues(
  declared: readonly DeclaredHandle[],
  stored: StoredContext,
): { path: (string | number)[]; message: string }[] {
  const inFile = new Set(declared.map((d) => accountKey(d)));
  const holders = new Map<string, string>();
  if (!stored.prune) {
    for (const account of stored.accounts) {
      if (!inFile.has(accountKey(account)))
        holders.set(handleKey(account), `${accountKey(account)} in the registry`);
    }
  }
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const account of declared) {
    const key = handleKey(account);
    const twin = holders.get(key);
    if (twin !== undefined) {
      issues.push({
        path: ['clients', account.clientId, 'accounts', account.accountId, 'handle'],
        message: `@${account.handle} on ${account.network} is declared twice (also ${twin})`,
      });
    } else holders.set(key, accountKey(account));
  }
  return issues;
}

/**
 * The registry the file stands for, given what is stored (for createdAt, connected ids, statuses and
 * attributes the file does not manage). ClientsFileError names every problem, with its line.
 */
export function desiredRegistry(
  parsed: ParsedClientsFile,
  current: RegistryContents,
  now: number,
): { clients: ClientRecord[]; accounts: AccountRecord[] } {
  const storedClients = new Map(current.clients.map((c) => [c.clientId, c]));
  const storedAccounts = new Map(current.accounts.map((a) => [accountKey(a), a]));
  const issues: FileIssue[] = [];
  const at = (path: (string | number)[], message: string): FileIssue => ({
    path,
    message,
    ...parsed.locate(path),
  });
  const clients: ClientRecord[] = [];
  const accounts: AccountRecord[] = [];
  const handles: DeclaredHandle[] = [];
  const platformIds = new Map<string, string>();
  for (const account of current.accounts) {
    if (account.platformUserId !== UNKNOWN_PLATFORM_USER_ID) {
      platformIds.set(`${account.network}:${account.platformUserId}`, accountKey(account));
    }
  }
  for (const [clientId, entry] of Object.entries(parsed.file.clients)) {
    const { accounts: declared, ...spec } = entry;
    const client = buildClientRecord(clientId, spec, storedClients.get(clientId), now);
    clients.push(client);
    for (const [accountId, accountSpec] of Object.entries(declared)) {
      const base = ['clients', clientId, 'accounts', accountId];
      const ref = { clientId, accountId };
      const stored = storedAccounts.get(accountKey(ref));
      try {
        const record = buildAccountRecord(client, accountId, accountSpec, stored, now);
        accounts.push(record);
        handles.push({
          ...ref,
          network: record.network,
          handle: record.handle,
          instance: record.instanceUrl,
        });
        if (record.platformUserId !== UNKNOWN_PLATFORM_USER_ID) {
          const idKey = `${record.network}:${record.platformUserId}`;
          const holder = platformIds.get(idKey);
          if (holder !== undefined && holder !== accountKey(ref)) {
            issues.push(
              at(
                [...base, 'platformUserId'],
                `${record.network} user ${record.platformUserId} is already the account ${holder}`,
              ),
            );
          }
          platformIds.set(idKey, accountKey(ref));
        }
      } catch (error) {
        if (!(error instanceof TenantSpecError)) throw error;
        for (const issue of error.issues) issues.push(at([...base, ...issue.path], issue.message));
      }
    }
  }
  for (const { path, message } of handleIssues(handles, parsed.stored)) issues.push(at(path, message));
  if (issues.length > 0) throw new ClientsFileError(parsed.source, byLine(issues));
  return { clients, accounts };
}

function byLine(issues: FileIssue[]): FileIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** [clientId, accountId, spec, client time zone] of the account declarations that are valid as such. */
function* accountsThatParse(json: unknown): Generator<[string, string, AccountSpec, string]> {
  const clients = (json as { clients?: unknown } | null)?.clients;
  if (typeof clients !== 'object' || clients === null) return;
  for (const [clientId, entry] of Object.entries(clients)) {
    if (!tenantIdSchema.safeParse(clientId).success) continue;
    const raw = entry as { accounts?: unknown; timeZone?: unknown } | null;
    const zone = typeof raw?.timeZone === 'string' && isValidTimeZone(raw.timeZone) ? raw.timeZone : 'UTC';
    if (typeof raw?.accounts !== 'object' || raw.accounts === null) continue;
    for (const [accountId, declared] of Object.entries(raw.accounts)) {
      const spec = accountSpecSchema.safeParse(declared);
      if (spec.success && tenantIdSchema.safeParse(accountId).success)
        yield [clientId, accountId, spec.data, zone];
    }
  }
}

function keepIdDigits(json: unknown, doc: ReturnType<typeof parseDocument>): void {
  const clients = (json as { clients?: unknown })?.clients;
  if (typeof clients !== 'object' || clients === null) return;
  for (const [clientId, entry] of Object.entries(clients)) {
    const accounts = (entry as { accounts?: unknown } | null)?.accounts;
    if (typeof accounts !== 'object' || accounts === null) continue;
    for (const [accountId, account] of Object.entries(accounts)) {
      if (typeof (account as { platformUserId?: unknown } | null)?.platformUserId !== 'number') continue;
      const node = doc.getIn(['clients', clientId, 'accounts', accountId, 'platformUserId'], true);
      const source = isScalar(node) ? (node as { source?: unknown }).source : undefined;
      if (typeof source === 'string' && /^[0-9]{1,30}$/.test(source)) {
        (account as { platformUserId: unknown }).platformUserId = source;
      }
    }
  }
}
