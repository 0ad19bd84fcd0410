/**
 * The approval endpoint's URLs, shared by the digest (which puts links in the email) and the request
 * handler (which serves them). Every link carries a signed token in `t`; the client id is in the path
 * too, so a token of one tenant presented at another tenant's URL is refused (`wrong_tenant`).
 *
 *   GET  <base>/approve/<clientId>?t=<token>       the approval page (never acts)
 *   POST <base>/approve/<clientId>                 the page's form: token, action, approve=<id>…
 *   GET  <base>/unsubscribe/<clientId>?t=<token>   the unsubscribe confirmation page (never acts)
 *   POST <base>/unsubscribe/<clientId>?t=<token>   RFC 8058 one-click (body List-Unsubscribe=One-Click)
 */
import {
  APPROVAL_TOKEN_TTL_MS,
  type ApprovalKeys,
  signApprovalToken,
  UNSUBSCRIBE_TOKEN_TTL_MS,
} from '../../domain/approval/token.ts';
import { safeHttpUrl } from '../../domain/digest/html.ts';
import { ConfigError } from '../../domain/errors.ts';

export const APPROVE_ROUTE = 'approve';
export const UNSUBSCRIBE_ROUTE = 'unsubscribe';
/** Most candidate ids listed in one batch link (a URL stays well under the token's 4 KB limit). */
export const MAX_BATCH_LINK_TARGETS = 100;

/** `https://host/base` without a trailing slash; a ConfigError when not an http(s) URL. */
export function normaliseBaseUrl(baseUrl: string): string {
  const url = safeHttpUrl(baseUrl);
  if (url === undefined) {
    throw new ConfigError(`approval base URL must be an http(s) URL, got ${JSON.stringify(baseUrl)}`, {
      details: { field: 'baseUrl' },
    });
  }
  const parsed = new URL(url);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href.replace(/\/+$/, '');
}

export function approvePath(clientId: string): string {
  return `/${APPROVE_ROUTE}/${encodeURIComponent(clientId)}`;
}

export function unsubscribePath(clientId: string): string {
  return `/${UNSUBSCRIBE_ROUTE}/${encodeURIComponent(clientId)}`;
}

export interface LinkSigner {
  keys: ApprovalKeys;
  /** The public base URL of the approval endpoint (the Function URL, or the local server). */
  baseUrl: string;
  /** When the links are issued (epoch ms). */
  now: number;
  approvalTtlMs?: number | undefined;
  unsubscribeTtlMs?: number | undefined;
}

function withToken(signer: LinkSigner, path: string, token: string): string {
  return `${normaliseBaseUrl(signer.baseUrl)}${path}?t=${encodeURIComponent(token)}`;
}

/** The approval page opened from one candidate: that candidate pre-ticked. */
export function candidateLink(
  signer: LinkSigner,
  ref: { clientId: string; accountId: string },
  targetId: string,
): string {
  const { token } = signApprovalToken(
    {
      clientId: ref.clientId,
      accountId: ref.accountId,
      scope: 'candidate',
      targetIds: [targetId],
      issuedAt: signer.now,
      expiresAt: signer.now + (signer.approvalTtlMs ?? APPROVAL_TOKEN_TTL_MS),
    },
    signer.keys,
  );
  return withToken(signer, approvePath(ref.clientId), token);
}

/** The approval page with the listed candidates pre-ticked (at most MAX_BATCH_LINK_TARGETS). */
export function batchLink(
  signer: LinkSigner,
  ref: { clientId: string; accountId: string },
  targetIds: readonly string[],
): string | undefined {
  const ids = [...new Set(targetIds)].slice(0, MAX_BATCH_LINK_TARGETS);
  if (ids.length === 0) return undefined;
  const { token } = signApprovalToken(
    {
      clientId: ref.clientId,
      accountId: ref.accountId,
      scope: 'batch',
      targetIds: ids,
      issuedAt: signer.now,
      expiresAt: signer.now + (signer.approvalTtlMs ?? APPROVAL_TOKEN_TTL_MS),
    },
    signer.keys,
  );
  return withToken(signer, approvePath(ref.clientId), token);
}

/** The RFC 8058 one-click unsubscribe URL (also the confirmation page, on GET). */
export function unsubscribeLink(signer: LinkSigner, clientId: string): string {
  const { token } = signApprovalToken(
    {
      clientId,
      scope: 'unsubscribe',
      issuedAt: signer.now,
      expiresAt: signer.now + (signer.unsubscribeTtlMs ?? UNSUBSCRIBE_TOKEN_TTL_MS),
    },
    signer.keys,
  );
  return withToken(signer, unsubscribePath(clientId), token);
}
