import { desiredRegistry, parseClientsFile } from '../../config/clients-file.ts';
import { type AccountRecord, accountKey, needsConnect } from '../../domain/account.ts';
import { ConflictError } from '../../domain/errors.ts';
import { type Plan, planChangesSomething, planRegistry, sameValue } from '../../domain/tenants/plan.ts';
import { removeAccount, type TenantDeps } from './registry.ts';

/**
 * `followback apply clients.yaml`: make the registry match the file. `planFromFile` reads the file
 * and the registry and says what would change (nothing is written); `applyPlan` carries it out.
 * The whole file is validated before anything is written: a bad field anywhere writes nothing.
 * Applying the same file twice is a no-op: the second plan is empty.
 */
export async function planFromFile(
  deps: Pick<TenantDeps, 'store' | 'clock'>,
  text: string,
  options: { source?: string | undefined; prune?: boolean | undefined } = {},
): Promise<Plan> {
  const parsed = parseClientsFile(text, options.source ?? 'clients.yaml');
  const current = { clients: await deps.store.listClients(), accounts: await deps.store.listAccounts() };
  const desired = desiredRegistry(parsed, current, deps.clock.now());
  return planRegistry(current, desired, { prune: options.prune ?? false });
}

export interface ApplyResult {
  created: number;
  updated: number;
  removed: number;
  /** Accounts created or still waiting for `followback connect` (not connected, or access refused). */
  toConnect: AccountRecord[];
}

/**
 * Carries out a plan step by step, in its order (clients before their accounts; accounts removed
 * before their client). A failure part way leaves the steps done so far; applying the file again
 * finishes the rest, as each step is idempotent.
 */
export async function applyPlan(deps: TenantDeps, plan: Plan): Promise<ApplyResult> {
  const result: ApplyResult = { created: 0, updated: 0, removed: 0, toConnect: [] };
  if (!planChangesSomething(plan)) return result;
  for (const step of plan.steps) {
    if (step.op === 'keep') continue;
    if (step.kind === 'client') {
      if (step.op === 'remove') {
        // Its accounts went in earlier steps; any added since are removed with it.
        for (const account of await deps.store.listAccounts(step.clientId))
          await removeAccount(deps, account);
        await deps.store.deleteClient(step.clientId);
      } else {
        await deps.store.putClient(step.desired!);
      }
    } else if (step.op === 'remove') {
      if ((await deps.store.getAccount(step.ref)) !== undefined) await removeAccount(deps, step.ref);
    } else {
      // `connect` may have stored the account's id and status since the plan was made: do not undo it.
      const now = await deps.store.getAccount(step.ref);
      if (!sameValue(now, step.current)) {
        throw new ConflictError(
          `account ${accountKey(step.ref)} changed since the plan was made; nothing more applied: run apply again`,
          { details: { ...step.ref } },
        );
      }
      await deps.store.putAccount(step.desired!);
      if (needsConnect(step.desired!.status)) result.toConnect.push(step.desired!);
    }
    if (step.op === 'create') result.created++;
    else if (step.op === 'update') result.updated++;
    else result.removed++;
    deps.logger?.info('apply step done', {
      kind: step.kind,
      op: step.op,
      id: step.kind === 'client' ? step.clientId : accountKey(step.ref),
    });
  }
  return result;
}
