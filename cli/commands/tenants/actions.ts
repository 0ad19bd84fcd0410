import { readFile } from 'node:fs/promises';
import { applyPlan, planFromFile } from '../../../shared/app/tenants/apply.ts';
import {
  addAccount,
  addClient,
  removeAccount,
  removeClient,
  requireAccount,
  requireClient,
  type TenantDeps,
  updateAccount,
  updateClient,
} from '../../../shared/app/tenants/registry.ts';
import { needsConnect } from '../../../shared/domain/account.ts';
import { DEFAULT_LOCALE } from '../../../shared/domain/digest/format.ts';
import { ValidationError } from '../../../shared/domain/errors.ts';
import { planChangesSomething } from '../../../shared/domain/tenants/plan.ts';
import {
  DEFAULT_DIGEST_DAY,
  DEFAULT_DIGEST_HOUR,
  weekdayName,
  weekdayNumber,
} from '../../../shared/domain/tenants/tenant.ts';
import { type CommandContext, openContext, printJson, type StoreOptions } from '../../context.ts';
import { counted } from '../../format.ts';
import { field, out, warn } from '../../output.ts';
import { accountTable, clientTable, connectHint, renderChanges, renderPlan } from './render.ts';

/** The actions of `followback client|account|apply`: parse options, call the use case, print. */

interface Output extends StoreOptions {
  json?: boolean;
}

async function withContext<T>(
  options: StoreOptions,
  fn: (context: CommandContext, deps: TenantDeps) => Promise<T>,
) {
  const context = await openContext(options);
  try {
    return await fn(context, { store: context.store, clock: context.clock });
  } finally {
    await context.close();
  }
}

/** A JSON object option (`--policy '{"mode":"approve"}'`), named when it is not one. */
export function jsonObject(flag: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${flag} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`${flag} must be a JSON object such as '{"mode":"approve"}'`);
  }
  return parsed as Record<string, unknown>;
}

function refuseUnconfirmed(what: string): void {
  warn(`followback: nothing removed; ${what}. Run again with --yes to remove.\n`);
  process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------
// clients

export interface ClientOptions extends Output {
  name?: string;
  locale?: string;
  timeZone?: string;
  digestEmail?: string[];
  digestDay?: string;
  digestHour?: number;
  yes?: boolean;
}

export async function clientAdd(clientId: string, options: ClientOptions): Promise<void> {
  await withContext({ ...options, create: true }, async (_context, deps) => {
    const client = await addClient(deps, clientId, {
      name: options.name,
      timeZone: options.timeZone as string,
      locale: options.locale,
      digest: {
        emails: options.digestEmail ?? [],
        ...(options.digestDay === undefined ? {} : { day: options.digestDay as 'mon' }),
        ...(options.digestHour === undefined ? {} : { hour: options.digestHour }),
      },
    });
    if (options.json) return printJson(client);
    out(`client ${field(client.clientId)} added (${field(client.name)}, ${field(client.timeZone)})`);
    out(`add its accounts: followback account add --client ${client.clientId} --network x --handle <handle>`);
  });
}

export async function clientList(options: Output): Promise<void> {
  await withContext(options, async (context) => {
    const clients = await context.store.listClients();
    const accounts = await context.store.listAccounts();
    if (options.json) {
      // Every setting, the defaults included, and each account's network, handle and status.
      return printJson(
        clients.map((client) => {
          const own = accounts.filter((a) => a.clientId === client.clientId);
          return {
            ...client,
            locale: client.locale ?? DEFAULT_LOCALE,
            digestWeekday: client.digestWeekday ?? weekdayNumber(DEFAULT_DIGEST_DAY),
            digestDay: weekdayName(client.digestWeekday),
            digestHour: client.digestHour ?? DEFAULT_DIGEST_HOUR,
            digestOptOut: client.digestOptOut ?? false,
            accounts: own.map((a) => a.accountId),
            accountDetails: own.map((a) => ({
              accountId: a.accountId,
              network: a.network,
              handle: a.handle,
              status: a.status,
              mode: (a.policy as { mode?: string } | undefined)?.mode ?? null,
            })),
          };
        }),
      );
    }
    if (clients.length === 0) return out(`no clients in the ${context.where}`);
    const owned = (clientId: string) => accounts.filter((a) => a.clientId === clientId).length;
    for (const line of clientTable(clients, owned)) out(line);
  });
}

export async function clientUpdate(clientId: string, options: ClientOptions): Promise<void> {
  await withContext(options, async (_context, deps) => {
    const result = await updateClient(deps, clientId, {
      name: options.name,
      timeZone: options.timeZone,
      locale: options.locale,
      digestEmails: options.digestEmail,
      digestDay: options.digestDay,
      digestHour: options.digestHour,
    });
    if (options.json) return printJson(result);
    if (result.changes.length === 0) return out(`client ${clientId}: nothing to change`);
    out(`client ${clientId} updated:`);
    for (const line of renderChanges(result.changes, '  ')) out(line);
    if (result.accountsUpdated.length > 0) {
      out(`  accounts following the client's time zone: ${result.accountsUpdated.join(', ')}`);
    }
  });
}

export async function clientRemove(clientId: string, options: ClientOptions): Promise<void> {
  await withContext(options, async (context, deps) => {
    await requireClient(context.store, clientId);
    if (!options.yes) {
      const accounts = await context.store.listAccounts(clientId);
      const list = accounts
        .map((a) => `${field(a.accountId)} (@${field(a.handle)} on ${a.network})`)
        .join(', ');
      return refuseUnconfirmed(
        `removing client ${clientId} removes ${counted(accounts.length, 'account')}${list ? `: ${list},` : ''} their data and their tokens`,
      );
    }
    const result = await removeClient(deps, clientId);
    if (options.json) return printJson({ clientId, removed: true, ...result });
    out(
      `client ${clientId} removed, with ${counted(result.accounts.length, 'account')}, their data and their tokens`,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// accounts

export interface AccountOptions extends Output {
  client?: string;
  account?: string;
  network?: string;
  handle?: string;
  platformUserId?: string;
  mode?: string;
  acknowledgeXAutomationPolicy?: boolean;
  paused?: boolean;
  active?: boolean;
  policy?: string;
  observe?: string;
  yes?: boolean;
}

function policyOverrides(options: AccountOptions): Record<string, unknown> | undefined {
  const policy = jsonObject('--policy', options.policy);
  if (options.mode === undefined && !options.acknowledgeXAutomationPolicy) return policy;
  return {
    ...policy,
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.acknowledgeXAutomationPolicy ? { acknowledgeXAutomationPolicy: true } : {}),
  };
}

export async function accountAdd(options: AccountOptions): Promise<void> {
  await withContext(options, async (_context, deps) => {
    const policy = policyOverrides(options);
    const observe = jsonObject('--observe', options.observe);
    const account = await addAccount(deps, options.client as string, {
      accountId: options.account,
      network: options.network as 'x',
      handle: options.handle as string,
      ...(options.platformUserId === undefined ? {} : { platformUserId: options.platformUserId }),
      paused: options.paused ?? false,
      ...(policy === undefined ? {} : { policy }),
      ...(observe === undefined ? {} : { observe }),
    });
    if (options.json) return printJson(account);
    out(
      `account ${field(account.clientId)}/${field(account.accountId)} added (@${field(account.handle)} on ${account.network}, ${account.status})`,
    );
    if (needsConnect(account.status)) out(connectHint(account));
  });
}

export async function accountList(options: AccountOptions): Promise<void> {
  await withContext(options, async (context) => {
    if (options.client !== undefined) await requireClient(context.store, options.client);
    const accounts = await context.store.listAccounts(options.client);
    if (options.json) return printJson(accounts);
    if (accounts.length === 0) return out(`no accounts in the ${context.where}`);
    for (const line of accountTable(accounts)) out(line);
  });
}

export async function accountUpdate(options: AccountOptions): Promise<void> {
  if (options.paused && options.active) throw new ValidationError('--paused and --active exclude each other');
  await withContext(options, async (_context, deps) => {
    const ref = { clientId: options.client as string, accountId: options.account as string };
    const observe = jsonObject('--observe', options.observe);
    const result = await updateAccount(deps, ref, {
      handle: options.handle,
      platformUserId: options.platformUserId,
      paused: options.paused ? true : options.active ? false : undefined,
      policy: policyOverrides(options),
      observe,
    });
    if (options.json) return printJson(result);
    if (result.changes.length === 0)
      return out(`account ${ref.clientId}/${ref.accountId}: nothing to change`);
    out(`account ${ref.clientId}/${ref.accountId} updated:`);
    for (const line of renderChanges(result.changes, '  ')) out(line);
  });
}

export async function accountRemove(options: AccountOptions): Promise<void> {
  await withContext(options, async (context, deps) => {
    const ref = { clientId: options.client as string, accountId: options.account as string };
    const account = await requireAccount(context.store, ref);
    if (!options.yes) {
      return refuseUnconfirmed(
        `removing ${ref.clientId}/${ref.accountId} (@${field(account.handle)} on ${account.network}) removes its data and its tokens`,
      );
    }
    const result = await removeAccount(deps, ref);
    if (options.json) return printJson({ ...ref, removed: true, ...result });
    out(`account ${ref.clientId}/${ref.accountId} removed, with its data and its tokens`);
  });
}

// ---------------------------------------------------------------------------------------------
// apply

export interface ApplyOptions extends Output {
  yes?: boolean;
  prune?: boolean;
  /** With --prune: a file that declares no clients may remove everything. */
  allowEmpty?: boolean;
}

export async function applyFile(file: string, options: ApplyOptions): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ValidationError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  await withContext({ ...options, create: true }, async (context, deps) => {
    const plan = await planFromFile(deps, text, { source: file, prune: options.prune });
    const changes = planChangesSomething(plan);
    // A file that declares nothing, pruned, removes everything: say so first, and ask for it by name.
    const emptied = options.prune === true && plan.declared.clients === 0 && plan.summary.remove > 0;
    const warnings = emptied
      ? [
          `${file} declares no clients: with --prune this plan removes every client and account in the ${context.where} (${plan.summary.remove} in all), with their data and tokens`,
        ]
      : [];
    for (const warning of warnings) if (!options.json) warn(`followback: warning: ${field(warning, 1000)}\n`);
    if (!options.json) {
      const applying = options.yes && (!emptied || options.allowEmpty);
      out(`${applying ? 'Applying' : 'Plan for'} ${field(file)} against the ${field(context.where)}:`);
      for (const line of renderPlan(plan)) out(line);
    }
    if (emptied && options.yes && !options.allowEmpty) {
      throw new ValidationError(
        `nothing applied: ${file} declares no clients, and --prune would remove everything`,
        {
          details: {
            hint: 'if that is really meant, run again with --yes --prune --allow-empty; otherwise check the file (a wrong path, or a file emptied by mistake)',
          },
        },
      );
    }
    if (!options.yes || !changes) {
      if (options.json) return printJson({ applied: false, plan, warnings });
      if (changes)
        out(`Nothing applied: run again with --yes${emptied ? ' --allow-empty' : ''} to apply this plan.`);
      return;
    }
    const result = await applyPlan(deps, plan);
    if (options.json) return printJson({ applied: true, plan, result, warnings });
    out(`Applied: ${result.created} created, ${result.updated} updated, ${result.removed} removed.`);
    for (const account of result.toConnect)
      out(`  ${account.clientId}/${account.accountId}: ${connectHint(account)}`);
  });
}
