import type { AccountRecord, XAppRecord } from './account.ts';

/**
 * What X bills per user returned (pay-per-use, 2026): $0.010, or $0.001 for owned reads ("your own
 * followers") where X counts the app as the account owner's own: a client's own app reading the
 * account that owns it (`xApp.ownedBy`). The deployment's app owns no client's account.
 */
export const X_USD_PER_USER_READ = 0.01;
export const X_USD_PER_OWNED_READ = 0.001;

/** The price of one user read for an X account served by `app` (undefined: the deployment's app). */
export function xReadPriceUsd(
  account: Pick<AccountRecord, 'accountId'>,
  app: Pick<XAppRecord, 'ownedBy'> | undefined,
): number {
  return app?.ownedBy !== undefined && app.ownedBy === account.accountId
    ? X_USD_PER_OWNED_READ
    : X_USD_PER_USER_READ;
}

/**
 * The deployment-wide bucket of the app-wide daily follow cap an account's follows pass: one per X
 * app (the deployment's, or the client's own, named by the account's `xAppClientId`), one per
 * network elsewhere.
 */
export function appFollowBucketName(account: Pick<AccountRecord, 'network' | 'xAppClientId'>): string {
  if (account.network === 'x' && account.xAppClientId !== undefined) {
    return `follow-x-app:${account.xAppClientId}`;
  }
  return `follow-${account.network}`;
}
