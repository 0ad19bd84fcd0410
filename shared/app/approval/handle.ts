/**
 * The approval endpoint, transport-neutral: a plain request in, a plain response out. The local
 * server (shared/runtime/approval-server.ts) and the AWS Function URL handler both call
 * `handleApprovalRequest`. Routes are in links.ts.
 *
 * Rules:
 * - A GET (or HEAD) never changes anything: mail scanners fetch every link. It verifies the token,
 *   checks that it is unused, and shows the page.
 * - A POST from the page acts: the form is validated (every field, every ticked id must be a
 *   candidate of the token's account), then the token is consumed with one conditional write on
 *   `APPROVAL#<tokenId>` that also records the decision, then the decision is carried out through
 *   `decideApprovals` (the same use case as the CLI). A bad form changes nothing and leaves the
 *   token usable; a second POST of a used token is refused (and, if the first one crashed between
 *   consuming and deciding, finishes the recorded decision: each task moves at most once).
 * - A link's token authorises decisions only on the candidates it covers (`tokenCovers`, the one
 *   scope check: a per-candidate link covers that person, a batch link the people it lists), and
 *   only while they were waiting when the link was issued. The page shows only those; a POST that
 *   ticks anyone else (a forwarded link, a crafted form) is refused whole and changes nothing.
 * - Used, expired, tampered, malformed, other-tenant (the token's client is not the URL's) and
 *   unknown tokens get a refusal page and change nothing.
 * - Unsubscribe: GET shows a confirmation page; POST with `List-Unsubscribe=One-Click` (RFC 8058,
 *   as mail clients send it, or the page's form) sets the client's opt-out. Repeating it is harmless.
 */

import * as z from '../../config/zod.ts';
import type { AccountRecord, ClientRecord } from '../../domain/account.ts';
import {
  type ApprovalKeys,
  type ApprovalTokenPayload,
  MAX_TOKEN_LENGTH,
  tokenCovers,
  verifyApprovalToken,
} from '../../domain/approval/token.ts';
import { digestLocale } from '../../domain/digest/format.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AuditStore, ClientBranding } from '../../ports/console.ts';
import type { ApprovalUseStore, DigestOptOutStore, StoredApprovalUse } from '../../ports/digest-store.ts';
import type { Logger } from '../../ports/logger.ts';
import type { AccountStateStore, RegistryStore } from '../../ports/store.ts';
import type { TaskStore } from '../../ports/tasks.ts';
import {
  approvalPageHeaders,
  type PageBrand,
  parseApprovalForm,
  type RefusalReason,
  refusalHttpStatus,
  renderApprovalPage,
  renderProblemPage,
  renderRefusalPage,
  renderResultPage,
  renderUnsubscribedPage,
  renderUnsubscribePage,
} from '../../presentation/approval/page.ts';
import { auditDecision } from '../console/audit.ts';
import { candidateOfTask } from '../digest/users.ts';
import { decideApprovals } from '../engine/approve.ts';
import { APPROVE_ROUTE, approvePath, normaliseBaseUrl, UNSUBSCRIBE_ROUTE, unsubscribePath } from './links.ts';

export interface ApprovalDeps {
  store: Pick<RegistryStore, 'getClient' | 'getAccount'> & TaskStore & AccountStateStore;
  uses: ApprovalUseStore & DigestOptOutStore;
  clock: Clock;
  keys: ApprovalKeys;
  agencyName: string;
  /**
   * The audit log: every decision taken through a link is recorded there (who: "approval link",
   * the token's id; when: the token's use), once, also when a crash made the POST be repeated.
   */
  audit?: AuditStore | undefined;
  /** The client's branding (display name, accent colour, logo) on its pages. */
  branding?: { getBranding(clientId: string): Promise<ClientBranding | undefined> } | undefined;
  /** The public base URL (forms post to it); default: https://<Host header>. */
  baseUrl?: string | undefined;
  logger?: Logger | undefined;
}

export interface ApprovalRequest {
  method: string;
  /** The path, e.g. `/approve/acme` (a query string on it is read too). */
  path: string;
  /** The query: raw (`t=…`) or parsed. */
  query?: string | Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** The body as text (decoded from base64 by the transport when needed). */
  body?: string | undefined;
  /** Header names in any case. */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
}

export interface ApprovalResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const MAX_REQUEST_BODY_BYTES = 256 * 1024;
/** Most candidates one page shows (the rest wait for the next digest). */
const MAX_PAGE_CANDIDATES = 1000;

const headerValue = z.optional(
  z.union([
    z.string().check(z.maxLength(8192)),
    z.array(z.string().check(z.maxLength(8192))).check(z.maxLength(32)),
  ]),
);
const requestSchema = z.object({
  method: z.string().check(z.minLength(1), z.maxLength(16)),
  path: z.string().check(z.minLength(1), z.maxLength(2048)),
  query: z.optional(
    z.union([
      z.string().check(z.maxLength(16_384)),
      z.record(z.string().check(z.maxLength(256)), headerValue),
    ]),
  ),
  body: z.optional(z.string().check(z.maxLength(MAX_REQUEST_BODY_BYTES))),
  headers: z.optional(z.record(z.string().check(z.maxLength(256)), headerValue)),
});

type ParsedRequest = z.infer<typeof requestSchema>;

/** Handles one request; never throws (an unexpected failure is a 500 page that says nothing inside). */
export async function handleApprovalRequest(
  deps: ApprovalDeps,
  request: ApprovalRequest,
): Promise<ApprovalResponse> {
  try {
    return await route(deps, request);
  } catch (error) {
    deps.logger?.error('approval request failed', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return problem(
      500,
      'Something went wrong',
      'The request could not be completed. Please try again in a few minutes.',
    );
  }
}

async function route(deps: ApprovalDeps, raw: ApprovalRequest): Promise<ApprovalResponse> {
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? 'request' : issue.path.map(String).join('.') || 'request';
    return problem(400, 'Bad request', `${field}: ${issue?.message ?? 'invalid'}`);
  }
  const request = parsed.data;
  const method = request.method.toUpperCase();
  const [pathOnly, pathQuery] = splitOnce(request.path, '?');
  const query = queryOf(request.query, pathQuery);
  const segments = pathOnly.split('/').filter((s) => s !== '');
  if (segments.length === 1 && segments[0] === 'healthz' && (method === 'GET' || method === 'HEAD')) {
    return {
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
      body: method === 'HEAD' ? '' : 'ok\n',
    };
  }
  const [routeName, clientSegment] = segments;
  const clientId = segments.length === 2 && clientSegment !== undefined ? decodeId(clientSegment) : undefined;
  if ((routeName !== APPROVE_ROUTE && routeName !== UNSUBSCRIBE_ROUTE) || clientId === undefined) {
    return problem(404, 'Not found', 'There is nothing at this address.');
  }
  const baseUrl = baseUrlOf(deps, request);
  if (baseUrl === undefined) return problem(400, 'Bad request', 'Host: missing or not a host name');
  const context: Context = { deps, request, method, query, clientId, baseUrl, now: deps.clock.now() };
  if (routeName === APPROVE_ROUTE) {
    if (method === 'GET' || method === 'HEAD') return showApproval(context);
    if (method === 'POST') return postApproval(context);
  } else {
    if (method === 'GET' || method === 'HEAD') return showUnsubscribe(context);
    if (method === 'POST') return postUnsubscribe(context);
  }
  const response = problem(405, 'Method not allowed', `${method} is not accepted here.`);
  return { ...response, headers: { ...response.headers, Allow: 'GET, HEAD, POST' } };
}

interface Context {
  deps: ApprovalDeps;
  request: ParsedRequest;
  method: string;
  query: URLSearchParams;
  clientId: string;
  baseUrl: string;
  now: number;
}

// ---------------------------------------------------------------------------------------------
// Approval page

async function showApproval(ctx: Context): Promise<ApprovalResponse> {
  const tokens = ctx.query.getAll('t');
  const [token] = tokens;
  if (tokens.length !== 1 || token === undefined) return refusal(ctx, 'malformed');
  const checked = await checkApprovalToken(ctx, token);
  if ('refusal' in checked) return checked.refusal;
  const { payload, client, account } = checked;
  const stored = await ctx.deps.store.listAwaitingApproval(account, { limit: MAX_PAGE_CANDIDATES });
  const candidates = stored
    .map((entry) => entry.task)
    .filter((task) => task.detectedAt <= payload.issuedAt && tokenCovers(payload, task.targetId))
    .map((task) => candidateOfTask(task));
  const shown = new Set(candidates.map((c) => c.user.id));
  const actionUrl = `${ctx.baseUrl}${approvePath(ctx.clientId)}`;
  const brand = await brandOf(ctx, client);
  const html = renderApprovalPage({
    agencyName: ctx.deps.agencyName,
    clientName: brand.name,
    brand,
    timeZone: client.timeZone,
    locale: digestLocale(client.locale),
    actionUrl,
    expiresAt: payload.expiresAt,
    accounts: [
      {
        accountId: account.accountId,
        network: account.network,
        handle: account.handle,
        token,
        candidates,
        selected: (payload.targetIds ?? []).filter((id) => shown.has(id)),
      },
    ],
  });
  ctx.deps.logger?.info('approval page shown', {
    clientId: ctx.clientId,
    accountId: account.accountId,
    candidates: candidates.length,
  });
  return page(ctx, 200, html, actionUrl, brand);
}

async function postApproval(ctx: Context): Promise<ApprovalResponse> {
  if (!isForm(ctx.request.headers)) {
    return problem(415, 'Unsupported form', 'Content-Type: must be application/x-www-form-urlencoded');
  }
  const form = parseApprovalForm(ctx.request.body ?? '');
  if (!form.ok) return problem(400, 'The form could not be read', `${form.field}: ${form.message}`);
  const checked = await checkApprovalToken(ctx, form.token, { skipUsedCheck: true });
  if ('refusal' in checked) return checked.refusal;
  const { payload, client, account } = checked;
  const existing = await ctx.deps.uses.getApprovalUse(ctx.clientId, payload.tokenId);
  if (existing !== undefined) {
    await finishInterrupted(ctx, account, existing, payload.tokenId);
    return refusal(ctx, 'used');
  }
  if (form.targetIds.length === 0) {
    return problem(
      400,
      'Nobody was ticked',
      'approve: tick at least one person, then press the button again.',
    );
  }

  // Every ticked id must be one the link covers, and a candidate of this account from before the
  // link was issued: a form naming anyone else was not made by this page, and changes nothing.
  const uncovered = form.targetIds.find((targetId) => !tokenCovers(payload, targetId));
  if (uncovered !== undefined) {
    return problem(403, 'Not covered by this link', `approve: this link does not cover ${uncovered}`);
  }
  const actionable: string[] = [];
  let unchanged = 0;
  for (const targetId of form.targetIds) {
    const stored = await ctx.deps.store.getTask(account, targetId);
    if (stored === undefined || stored.task.detectedAt > payload.issuedAt) {
      return problem(
        400,
        'The form could not be read',
        `approve: ${targetId} is not a candidate of this account`,
      );
    }
    if (stored.task.state === 'pending_approval') actionable.push(targetId);
    else unchanged += 1;
  }

  const use = {
    accountId: account.accountId,
    action: form.action,
    targetIds: actionable,
    state: 'consumed' as const,
    usedAt: ctx.now,
    expiresAt: payload.expiresAt,
  };
  if (!(await ctx.deps.uses.createApprovalUse(ctx.clientId, payload.tokenId, use))) {
    return refusal(ctx, 'used');
  }
  const result = await decideApprovals(
    account,
    form.action === 'approve' ? { approve: actionable, skip: [] } : { approve: [], skip: actionable },
    { tasks: ctx.deps.store, state: ctx.deps.store, clock: ctx.deps.clock },
  );
  const summary = {
    approved: result.approved.length,
    skipped: result.skipped.length,
    unchanged: unchanged + result.notWaiting.length,
  };
  await auditLinkDecision(
    ctx,
    account,
    payload.tokenId,
    use,
    form.action === 'approve' ? result.approved : result.skipped,
  );
  await recordApplied(ctx, payload.tokenId, { ...use }, 1, summary);
  ctx.deps.logger?.info('approval decided', {
    clientId: ctx.clientId,
    accountId: account.accountId,
    ...summary,
  });
  const brand = await brandOf(ctx, client);
  const html = renderResultPage({
    agencyName: ctx.deps.agencyName,
    clientName: brand.name,
    brand,
    locale: digestLocale(client.locale),
    ...summary,
  });
  return page(ctx, 200, html, undefined, brand);
}

/** A use recorded as consumed but never marked applied: a crash between the two. Finish it. */
async function finishInterrupted(
  ctx: Context,
  account: AccountRecord,
  existing: StoredApprovalUse,
  tokenId: string,
): Promise<void> {
  const { use } = existing;
  if (use.state !== 'consumed' || use.accountId !== account.accountId) return;
  const result = await decideApprovals(
    account,
    use.action === 'approve' ? { approve: use.targetIds, skip: [] } : { approve: [], skip: use.targetIds },
    { tasks: ctx.deps.store, state: ctx.deps.store, clock: ctx.deps.clock },
  );
  // The first POST may have crashed before or after its audit entry: the key writes it once.
  await auditLinkDecision(ctx, account, tokenId, use, use.targetIds, 'finished after an interruption');
  await recordApplied(ctx, tokenId, use, existing.version, {
    approved: result.approved.length,
    skipped: result.skipped.length,
    unchanged: result.notWaiting.length,
  });
  ctx.deps.logger?.warn('approval finished after an interruption', { clientId: ctx.clientId, tokenId });
}

/** The decision in the audit log, keyed by the token (one use, one entry) and dated by its use. */
async function auditLinkDecision(
  ctx: Context,
  account: AccountRecord,
  tokenId: string,
  use: { action: 'approve' | 'skip'; usedAt: number },
  changed: readonly string[],
  note?: string,
): Promise<void> {
  if (ctx.deps.audit === undefined) return;
  await auditDecision(
    { audit: ctx.deps.audit, clock: ctx.deps.clock },
    { kind: 'approval-link', id: tokenId },
    account,
    use.action === 'approve' ? 'approve' : 'decline',
    changed,
    { at: use.usedAt, key: `approval-link:${tokenId}`, note },
  );
}

async function recordApplied(
  ctx: Context,
  tokenId: string,
  use: Parameters<ApprovalUseStore['putApprovalUse']>[2],
  version: number,
  result: { approved: number; skipped: number; unchanged: number },
): Promise<void> {
  try {
    await ctx.deps.uses.putApprovalUse(
      ctx.clientId,
      tokenId,
      { ...use, state: 'applied', appliedAt: ctx.deps.clock.now(), result },
      version,
    );
  } catch (error) {
    // The decision is made; only its bookkeeping lost a race (or failed): a later POST of the
    // token re-applies it, which changes nothing more.
    if (!(error instanceof ConflictError)) {
      ctx.deps.logger?.warn('approval: could not mark the token applied', {
        clientId: ctx.clientId,
        error: (error as Error).message,
      });
    }
  }
}

type Checked =
  | { payload: ApprovalTokenPayload; client: ClientRecord; account: AccountRecord }
  | { refusal: ApprovalResponse };

async function checkApprovalToken(
  ctx: Context,
  token: string | undefined,
  options: { skipUsedCheck?: boolean } = {},
): Promise<Checked> {
  const verified = verifyApprovalToken(token, ctx.deps.keys, ctx.now, {
    clientId: ctx.clientId,
    scope: ['candidate', 'batch'],
  });
  if (!verified.ok) return { refusal: refusal(ctx, verified.status) };
  const { payload } = verified;
  if (payload.accountId === undefined) return { refusal: refusal(ctx, 'malformed') };
  if (!options.skipUsedCheck && (await ctx.deps.uses.getApprovalUse(ctx.clientId, payload.tokenId))) {
    return { refusal: refusal(ctx, 'used') };
  }
  const client = await ctx.deps.store.getClient(ctx.clientId);
  const account =
    client === undefined
      ? undefined
      : await ctx.deps.store.getAccount({ clientId: ctx.clientId, accountId: payload.accountId });
  if (client === undefined || account === undefined) return { refusal: refusal(ctx, 'not_found') };
  return { payload, client, account };
}

// ---------------------------------------------------------------------------------------------
// Unsubscribe

async function showUnsubscribe(ctx: Context): Promise<ApprovalResponse> {
  const tokens = ctx.query.getAll('t');
  const [token] = tokens;
  if (tokens.length !== 1 || token === undefined) return refusal(ctx, 'malformed');
  const verified = verifyApprovalToken(token, ctx.deps.keys, ctx.now, {
    clientId: ctx.clientId,
    scope: 'unsubscribe',
  });
  if (!verified.ok) return refusal(ctx, verified.status);
  const client = await ctx.deps.store.getClient(ctx.clientId);
  if (client === undefined) return refusal(ctx, 'not_found');
  const actionUrl = `${ctx.baseUrl}${unsubscribePath(ctx.clientId)}`;
  const brand = await brandOf(ctx, client);
  const html = renderUnsubscribePage({
    agencyName: ctx.deps.agencyName,
    clientName: brand.name,
    brand,
    actionUrl,
    token,
  });
  return page(ctx, 200, html, actionUrl, brand);
}

async function postUnsubscribe(ctx: Context): Promise<ApprovalResponse> {
  const type = contentType(ctx.request.headers);
  const body = ctx.request.body ?? '';
  let oneClick: boolean;
  let bodyTokens: string[] = [];
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    const form = new URLSearchParams(body);
    oneClick = form.getAll('List-Unsubscribe').includes('One-Click');
    bodyTokens = form.getAll('token');
  } else if (type === 'multipart/form-data') {
    oneClick = /name="List-Unsubscribe"\r?\n\r?\nOne-Click/.test(body);
  } else {
    return problem(415, 'Unsupported form', 'Content-Type: must be application/x-www-form-urlencoded');
  }
  if (!oneClick) return problem(400, 'The form could not be read', 'List-Unsubscribe: must be One-Click');
  const tokens = [...new Set([...ctx.query.getAll('t'), ...bodyTokens])];
  if (tokens.length !== 1 || (tokens[0]?.length ?? 0) > MAX_TOKEN_LENGTH) return refusal(ctx, 'malformed');
  const verified = verifyApprovalToken(tokens[0], ctx.deps.keys, ctx.now, {
    clientId: ctx.clientId,
    scope: 'unsubscribe',
  });
  if (!verified.ok) return refusal(ctx, verified.status);
  const client = await ctx.deps.store.getClient(ctx.clientId);
  if (client === undefined || !(await ctx.deps.uses.setDigestOptOut(ctx.clientId, true, ctx.now))) {
    return refusal(ctx, 'not_found');
  }
  ctx.deps.logger?.info('digest unsubscribed', { clientId: ctx.clientId });
  const brand = await brandOf(ctx, client);
  return page(
    ctx,
    200,
    renderUnsubscribedPage({ agencyName: ctx.deps.agencyName, clientName: brand.name, brand }),
    undefined,
    brand,
  );
}

// ---------------------------------------------------------------------------------------------
// Responses and request details

/**
 * The client's name and branding on its pages: the display name, accent and logo it set in the
 * console (validated again by the page), else its name and the defaults. A branding that cannot be
 * read is not a reason to refuse the page: the defaults show.
 */
async function brandOf(
  ctx: Context,
  client: ClientRecord,
): Promise<{ name: string; accent?: string | undefined; logoUrl?: string | undefined }> {
  let branding: ClientBranding | undefined;
  try {
    branding = await ctx.deps.branding?.getBranding(client.clientId);
  } catch (error) {
    ctx.deps.logger?.warn('approval page: branding unavailable; defaults shown', {
      clientId: client.clientId,
      error: (error as Error).message,
    });
  }
  return {
    name: branding?.displayName ?? client.name,
    ...(branding?.accent === undefined ? {} : { accent: branding.accent }),
    ...(branding?.logoUrl === undefined ? {} : { logoUrl: branding.logoUrl }),
  };
}

function page(
  ctx: Context,
  status: number,
  html: string,
  formAction?: string,
  brand?: PageBrand,
): ApprovalResponse {
  return {
    status,
    headers: approvalPageHeaders({ formAction, brand }),
    body: ctx.method === 'HEAD' ? '' : html,
  };
}

function refusal(ctx: Context, reason: RefusalReason): ApprovalResponse {
  ctx.deps.logger?.info('approval link refused', { clientId: ctx.clientId, reason });
  return page(ctx, refusalHttpStatus(reason), renderRefusalPage(reason, { agencyName: ctx.deps.agencyName }));
}

/** A page for a bad request (the message names the field); same look and CSP as the others. */
function problem(status: number, title: string, message: string): ApprovalResponse {
  return { status, headers: approvalPageHeaders(), body: renderProblemPage(status, title, message) };
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
}

function queryOf(query: ParsedRequest['query'], fromPath: string | undefined): URLSearchParams {
  const params = new URLSearchParams(fromPath ?? '');
  if (typeof query === 'string') {
    for (const [k, v] of new URLSearchParams(query)) params.append(k, v);
  } else if (query !== undefined) {
    for (const [k, v] of Object.entries(query)) {
      for (const value of typeof v === 'string' ? [v] : (v ?? [])) params.append(k, value);
    }
  }
  return params;
}

function decodeId(segment: string): string | undefined {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  // The store's id rules: non-empty, at most 256 characters, no '#', no control characters.
  if (id.length === 0 || id.length > 256) return undefined;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code === 0x23 || code < 0x20 || code === 0x7f) return undefined;
  }
  return id;
}

function header(headers: ParsedRequest['headers'], name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

function contentType(headers: ParsedRequest['headers']): string {
  const [mediaType = ''] = (header(headers, 'content-type') ?? '').split(';'); // split yields at least one part
  return mediaType.trim().toLowerCase();
}

function isForm(headers: ParsedRequest['headers']): boolean {
  return contentType(headers) === 'application/x-www-form-urlencoded';
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[::1\])(?::\d{1,5})?$/;

function baseUrlOf(deps: ApprovalDeps, request: ParsedRequest): string | undefined {
  if (deps.baseUrl !== undefined) return normaliseBaseUrl(deps.baseUrl);
  const host = header(request.headers, 'host');
  if (host === undefined || !HOST.test(host)) return undefined;
  const hostname = host.replace(/:\d+$/, '');
  const loopback = hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  // Only loopback is served over plain http (the local server); anything else is https.
  return `${loopback ? 'http' : 'https'}://${host}`;
}
