import { type AccountRecord, type AccountRef, accountKey } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import { defaultAccountId, sameHandle, UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { Network } from '../../ports/platform.ts';
import type { RegistryStore } from '../../ports/store.ts';

/**
 * The account a connect stores its credentials in: the one named (`accountId`); else the client's
 * account of `network` that is the connecting user (`isUser`); else one declared for that user and
 * not connected yet (`awaits`, e.g. by handle); else a new `<network>-<handle>`.
 */
export async function chooseAccount(
  registry: RegistryStore,
  input: { clientId: string; accountId?: string | undefined },
  network: Network,
  handle: string,
  match: { isUser: (account: AccountRecord) => boolean; awaits: (account: AccountRecord) => boolean },
): Promise<AccountRef> {
  if (input.accountId !== undefined) return { clientId: input.clientId, accountId: input.accountId };
  const accounts = (await registry.listAccounts(input.clientId)).filter((a) => a.network === network);
  const found =
    accounts.find(match.isUser) ??
    accounts.find((a) => a.platformUserId === UNKNOWN_PLATFORM_USER_ID && match.awaits(a));
  return { clientId: input.clientId, accountId: found?.accountId ?? defaultAccountId(network, handle) };
}

/** A declared account, never connected, and someone else signed in: nothing was stored. */
export class HandleMismatchError extends ValidationError {
  override readonly name = 'HandleMismatchError';
}

/**
 * Connect and apply agree on an account's handle. The handle the network reports is stored (it is
 * what the network calls the account), and:
 * - an account declared for one handle and never connected refuses another handle signing in
 *   (HandleMismatchError, nothing stored): the usual cause is a browser signed in to another
 *   account, and quietly taking it would connect the wrong account and leave the file at odds;
 * - a connected account (same platform user) whose handle changed on the network takes the new one
 *   and says so (`renamedFrom`), so the operator updates clients.yaml (apply refuses to put back a
 *   handle the connected account no longer has).
 */
export function checkDeclaredHandle(
  ref: AccountRef,
  existing: AccountRecord | undefined,
  connected: { handle: string; instanceUrl?: string | undefined },
  where: string,
): { renamedFrom?: string } {
  if (existing === undefined) return {};
  const on = { network: existing.network, instanceUrl: connected.instanceUrl ?? existing.instanceUrl };
  if (sameHandle(on, existing.handle, connected.handle)) return {};
  if (existing.platformUserId !== UNKNOWN_PLATFORM_USER_ID) return { renamedFrom: existing.handle };
  throw new HandleMismatchError(
    `${accountKey(ref)} is declared as @${existing.handle}, but @${connected.handle} signed in on ${where}: nothing was stored`,
    {
      details: {
        ...ref,
        declared: existing.handle,
        connected: connected.handle,
        hint: `sign in as @${existing.handle} and connect again; if @${connected.handle} is the right account, change the declared handle first (clients.yaml, or followback account update --client ${ref.clientId} --account ${ref.accountId} --handle ${connected.handle})`,
      },
    },
  );
}
