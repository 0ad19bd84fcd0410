import type { AccountRecord, AccountRef } from '../../domain/account.ts';
import { defaultAccountId, UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
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
