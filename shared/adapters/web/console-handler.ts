/**
 * The web side, transport-neutral: a plain request in, a plain response out. The loopback server
 * (shared/runtime/console-server.ts) and the AWS Function URL handler (functions/handlers/console.ts)
 * both call `handleWebRequest`.
 *
 * Routes:
 *   GET  /console                                            clients, problems first
 *   GET  /console/auth                                       sign-in (one-time link, or Cognito's redirect back)
 *   POST /console/signout
 *   GET  /console/clients/:c                                 a client: accounts, chart, approvals, settings
 *   POST /console/clients/:c/decide                          bulk approve / decline across its accounts
 *   POST /console/clients/:c/invites                         a new invite link
 *   POST /console/clients/:c/accounts/:a/settings
 *   GET  /console/clients/:c/accounts/:a/one-sided[.csv]
 *   POST /console/clients/:c/accounts/:a/unfollow
 *   GET  /console/clients/:c/audit[.csv]
 *   GET  /invite/:c?i=…                                      the client's invite page
 *   POST /invite/:c/start                                    X or Mastodon: off to the network's sign-in
 *   POST /invite/:c/bluesky                                  Bluesky with an app password
 *   GET  /oauth/callback                                     the networks' redirect back
 *   anything else                                            `fallback` (the approval page), else 404
 *
 * Every console route checks the session; every state-changing request checks its CSRF token (the
 * session's, or on invite pages one bound to the invite and a browser cookie) and, when the browser
 * sends one, that the Origin is this deployment's; every route with a client or account checks the
 * client exists and the account is that client's.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { auditCsv, listAudit } from '../../app/console/audit.ts';
import { type BrandingDeps, updateBranding } from '../../app/console/branding.ts';
import { type DecisionDeps, decideAcrossAccounts, updateSettings } from '../../app/console/decisions.ts';
import { listOneSided, oneSidedCsv, type UnfollowDeps, unfollowChosen } from '../../app/console/one-sided.ts';
import { type ConsoleReadDeps, clientDetail, clientsOverview } from '../../app/console/overview.ts';
import { queuesUnfollows, unfollowQueueOf } from '../../app/engine/unfollow-queue.ts';
import {
  connectBlueskyByInvite,
  createInvite,
  finishInviteAuthorization,
  type InviteDeps,
  InviteRefusedError,
  OAUTH_CALLBACK_PATH,
  openInvite,
  startInviteAuthorization,
} from '../../app/invites/invites.ts';
import type { ClientRecord } from '../../domain/account.ts';
import { UNFOLLOW_SKIP_TEXT } from '../../domain/engine/unfollow.ts';
import { FollowbackError, ValidationError } from '../../domain/errors.ts';
import { type InviteRefusal, inviteRefusalText } from '../../domain/invites/invite.ts';
import type { Actor } from '../../ports/console.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Network } from '../../ports/platform.ts';
import {
  auditPage,
  type Branding,
  type ConsoleView,
  clientPage,
  clientsPage,
  continueToNetworkPage,
  inviteDonePage,
  invitePage,
  noticePage,
  oneSidedPage,
  type WebPage,
} from '../../presentation/console/pages.ts';
import { html } from '../../presentation/html.ts';
import { type ConsoleAuth, cookie, parseCookies } from './auth.ts';
import { sameToken } from './local-auth.ts';

export interface WebRequest {
  method: string;
  path: string;
  /** Raw query string, without `?`. */
  query?: string | undefined;
  body?: string | undefined;
  headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** Cookies as a Function URL passes them (else read from the Cookie header). */
  cookies?: readonly string[] | undefined;
}

export interface WebResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Set-Cookie values. */
  cookies?: string[] | undefined;
}

export interface WebDeps {
  agency: Branding;
  /** A client's branding (default: its name and the agency's colours). */
  brandingOf?: ((client: ClientRecord) => Branding | Promise<Branding>) | undefined;
  auth: ConsoleAuth;
  invites: InviteDeps;
  read: ConsoleReadDeps;
  decisions: DecisionDeps;
  oneSided: UnfollowDeps;
  /** Per-client branding set from the console (without it the form is refused). */
  branding?: BrandingDeps | undefined;
  /** Keys the invite pages' CSRF tokens (the approval keys will do). */
  csrfKey: string | Uint8Array;
  auditRetentionDays: number;
  /** The approval page and unsubscribe links, served beside the console. */
  fallback?: ((request: WebRequest) => Promise<WebResponse>) | undefined;
  logger?: Logger | undefined;
}

export const MAX_WEB_BODY_BYTES = 256 * 1024;
const INVITE_COOKIE = 'fb_invite';

function header(request: WebRequest, name: string): string | undefined {
  const headers = request.headers ?? {};
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : (value as string | undefined);
  }
  return undefined;
}

function cookiesOf(request: WebRequest): Record<string, string> {
  if (request.cookies !== undefined && request.cookies.length > 0)
    return parseCookies(request.cookies.join('; '));
  return parseCookies(header(request, 'cookie'));
}

function asResponse(page: WebPage, cookies?: string[]): WebResponse {
  return {
    status: page.status,
    headers: page.headers,
    body: page.body,
    ...(cookies === undefined ? {} : { cookies }),
  };
}

function redirect(location: string, cookies: string[] = []): WebResponse {
  return {
    status: 303,
    headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' },
    body: '',
    cookies,
  };
}

function download(filename: string, body: string): WebResponse {
  return {
    status: 200,
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
    body: `\ufeff${body}`,
  };
}

function segments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export async function handleWebRequest(deps: WebDeps, request: WebRequest): Promise<WebResponse> {
  try {
    return await route(deps, request);
  } catch (error) {
    deps.logger?.error('web request failed', {
      path: request.path.slice(0, 200),
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return asResponse(
      noticePage(
        500,
        'Something went wrong',
        'The request could not be completed; nothing more was changed. Please try again.',
        deps.agency,
      ),
    );
  }
}

async function route(deps: WebDeps, request: WebRequest): Promise<WebResponse> {
  const method = request.method.toUpperCase();
  const path = request.path.split('?')[0] ?? '/';
  if ((request.body ?? '').length > MAX_WEB_BODY_BYTES) {
    return asResponse(noticePage(413, 'Too large', 'The request is too large.', deps.agency));
  }
  const parts = segments(path);
  if (parts === undefined)
    return asResponse(noticePage(400, 'Bad request', 'The address is not valid.', deps.agency));
  const query = new URLSearchParams(request.query ?? '');
  const form = new URLSearchParams(method === 'POST' ? (request.body ?? '') : '');
  const cookies = cookiesOf(request);
  if (method === 'POST' && !sameOrigin(deps, request)) {
    return asResponse(
      noticePage(403, 'Refused', 'This form was sent from another site; nothing was changed.', deps.agency),
    );
  }

  if (parts[0] === 'console') return consoleRoute(deps, method, parts.slice(1), query, form, cookies);
  const [route, invited, ...rest] = parts;
  if (route === 'invite' && invited !== undefined)
    return inviteRoute(deps, method, invited, rest, query, form, cookies);
  if (path === OAUTH_CALLBACK_PATH && method === 'GET') return oauthCallback(deps, query);
  if (path === '/' && method === 'GET') return redirect('/console');
  if (deps.fallback !== undefined) return deps.fallback(request);
  return asResponse(noticePage(404, 'Not found', 'There is no page here.', deps.agency));
}

/** A POST's Origin, when the browser sends one, must be this deployment's. */
function sameOrigin(deps: WebDeps, request: WebRequest): boolean {
  const origin = header(request, 'origin');
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).origin === new URL(deps.invites.baseUrl).origin;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Console

async function consoleRoute(
  deps: WebDeps,
  method: string,
  parts: string[],
  query: URLSearchParams,
  form: URLSearchParams,
  cookies: Record<string, string>,
): Promise<WebResponse> {
  if (parts[0] === 'auth' && method === 'GET') {
    const outcome = await deps.auth.signIn(query, cookies);
    if (!outcome.ok)
      return asResponse(noticePage(outcome.status, 'Sign-in refused', outcome.message, deps.agency));
    return redirect(outcome.redirect, outcome.cookies);
  }
  const session = await deps.auth.session(cookies);
  if (session === undefined) {
    const login = await deps.auth.loginRedirect(cookies);
    if (login !== undefined) return redirect(login.url, login.cookies);
    return asResponse(
      noticePage(
        401,
        'Sign in',
        'Open the one-time sign-in link that `followback serve --local` printed.',
        deps.agency,
      ),
    );
  }
  if (method === 'POST' && !sameToken(form.get('csrf') ?? '', session.csrf)) {
    return asResponse(
      noticePage(
        403,
        'Refused',
        'The form is out of date (no valid CSRF token); nothing was changed. Reload the page and try again.',
        deps.agency,
      ),
    );
  }
  const view: ConsoleView = { agency: deps.agency, user: session.user, csrf: session.csrf };
  const actor: Actor = { kind: 'console', id: session.user };
  const now = deps.invites.clock.now();

  if (parts.length === 0 && method === 'GET')
    return asResponse(clientsPage(view, await clientsOverview(deps.read, now)));
  if (parts[0] === 'signout' && method === 'POST') {
    const out = await deps.auth.signOut(cookies);
    return redirect(out.redirect, out.cookies);
  }
  if (parts[0] !== 'clients' || parts[1] === undefined) return notFound(deps);
  const clientId = parts[1];
  const client = await deps.read.store.getClient(clientId);
  if (client === undefined) return notFound(deps);
  const rest = parts.slice(2);

  const showClient = async (
    flash?: { ok?: string; error?: string },
    invite?: Parameters<typeof clientPage>[3],
  ) => asResponse(clientPage(view, await clientDetail(deps.read, clientId, now), flash, invite));

  if (rest.length === 0 && method === 'GET') return showClient();
  if (rest[0] === 'decide' && rest.length === 1 && method === 'POST') {
    const action = form.get('action') === 'skip' ? 'skip' : 'approve';
    const picks = form.getAll('pick').map((value) => {
      const index = value.indexOf(':');
      return { accountId: value.slice(0, index), targetId: value.slice(index + 1) };
    });
    return withValidation(
      async () => {
        const result = await decideAcrossAccounts(deps.decisions, actor, clientId, { action, picks });
        return showClient({
          ok: `${result.changed} candidate(s) ${action === 'approve' ? 'approved' : 'declined'} across ${result.perAccount.length} account(s).`,
        });
      },
      (message) => showClient({ error: message }),
    );
  }
  if (rest[0] === 'invites' && rest.length === 1 && method === 'POST') {
    const network = form.get('network') ?? '';
    return withValidation(
      async () => {
        const created = await createInvite(deps.invites, actor, {
          clientId,
          network: network === '' ? undefined : (network as Network),
        });
        return showClient({ ok: 'Invite created.' }, created);
      },
      (message) => showClient({ error: message }),
    );
  }
  if (rest[0] === 'branding' && rest.length === 1 && method === 'POST' && deps.branding !== undefined) {
    const branding = deps.branding;
    return withValidation(
      async () => {
        await updateBranding(branding, actor, clientId, {
          displayName: form.get('displayName') ?? undefined,
          accent: form.get('accent') ?? undefined,
          logoUrl: form.get('logoUrl') ?? undefined,
        });
        return showClient({ ok: 'Branding saved: the invite pages show it.' });
      },
      (message) => showClient({ error: message }),
    );
  }
  if (rest[0] === 'audit' && rest.length === 1 && method === 'GET') {
    const entries = await listAudit(deps.decisions.audit, clientId);
    return asResponse(auditPage(view, clientId, client.name, entries, deps.auditRetentionDays));
  }
  if (rest[0] === 'audit.csv' && rest.length === 1 && method === 'GET') {
    return download(
      `audit-${clientId}.csv`,
      auditCsv(await listAudit(deps.decisions.audit, clientId, 100_000)),
    );
  }
  if (rest[0] === 'accounts' && rest[1] !== undefined && rest.length === 3) {
    const ref = { clientId, accountId: rest[1] };
    // The tenant check: the account must be this client's.
    const account = await deps.read.store.getAccount(ref);
    if (account === undefined) return notFound(deps);
    const page = Number(query.get('page') ?? '1');
    const q = (query.get('q') ?? '').slice(0, 100);
    const showOneSided = async (flash?: { ok?: string; error?: string }) =>
      asResponse(
        oneSidedPage(
          view,
          client.name,
          await listOneSided(deps.oneSided, ref, { page: Number.isFinite(page) ? page : 1, query: q }),
          q,
          now,
          flash,
          queuesUnfollows(account) ? await unfollowQueueOf(deps.oneSided.queue, account) : undefined,
        ),
      );
    if (rest[2] === 'settings' && method === 'POST') {
      return withValidation(
        async () => {
          const result = await updateSettings(deps.decisions, actor, ref, {
            mode: form.get('mode') ?? undefined,
            acknowledgeXAutomationPolicy:
              form.get('acknowledgeXAutomationPolicy') === 'true' ? true : undefined,
            withinHours: form.get('withinHours') ?? undefined,
            notBeforeHours: form.get('notBeforeHours') ?? undefined,
            per15Minutes: form.get('per15Minutes') ?? undefined,
            perDay: form.get('perDay') ?? undefined,
            quietStart: form.get('quietStart') ?? undefined,
            quietEnd: form.get('quietEnd') ?? undefined,
            digestDay: form.get('digestDay') ?? undefined,
            digestHour: form.get('digestHour') ?? undefined,
          });
          return showClient({
            ok: result.changed.length === 0 ? 'Nothing changed.' : `Saved: ${result.changed.join(', ')}.`,
          });
        },
        (message) => showClient({ error: message }),
      );
    }
    if (rest[2] === 'one-sided' && method === 'GET') return showOneSided();
    if (rest[2] === 'one-sided.csv' && method === 'GET') {
      return download(
        `one-sided-${clientId}-${account.accountId}.csv`,
        await oneSidedCsv(deps.oneSided, ref),
      );
    }
    if (rest[2] === 'unfollow' && method === 'POST') {
      const targets = form.getAll('target');
      return withValidation(
        async () => {
          const result = await unfollowChosen(deps.oneSided, actor, ref, targets);
          const parts: string[] = [`${result.unfollowed.length} unfollowed`];
          if (result.gone.length > 0) parts.push(`${result.gone.length} no longer exist`);
          if (result.refused.length > 0)
            parts.push(`${result.refused.length} not one-sided follows (nothing done)`);
          for (const [reason, n] of countBy(result.skipped.map((s) => s.reason))) {
            parts.push(`${n} skipped: ${UNFOLLOW_SKIP_TEXT[reason]}`);
          }
          if (result.deferred.length > 0) {
            parts.push(
              account.network === 'x'
                ? `${result.deferred.length} not done: the caps allow it from ${utc(result.availableAt)}`
                : `${result.deferred.length} queued: carried out under the caps on later ticks${result.availableAt === undefined ? '' : `, from ${utc(result.availableAt)}`}`,
            );
          }
          return showOneSided({ ok: `${parts.join('; ')}.` });
        },
        (message) => showOneSided({ error: message }),
      );
    }
  }
  return notFound(deps);
}

function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function utc(at: number | undefined): string {
  return at === undefined ? 'later' : `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

async function withValidation(
  act: () => Promise<WebResponse>,
  onInvalid: (message: string) => Promise<WebResponse>,
): Promise<WebResponse> {
  try {
    return await act();
  } catch (error) {
    if (error instanceof ValidationError) return onInvalid(error.message);
    throw error;
  }
}

function notFound(deps: WebDeps): WebResponse {
  return asResponse(noticePage(404, 'Not found', 'There is no such page, client or account.', deps.agency));
}

// ---------------------------------------------------------------------------------------------
// Invites

function inviteCsrf(deps: WebDeps, token: string, nonce: string): string {
  return createHmac('sha256', deps.csrfKey).update(`invite-csrf|${token}|${nonce}`).digest('base64url');
}

async function brandingOf(deps: WebDeps, client: ClientRecord): Promise<Branding> {
  return deps.brandingOf === undefined ? { name: client.name } : deps.brandingOf(client);
}

function refusalPage(deps: WebDeps, reason: InviteRefusal): WebResponse {
  const text = inviteRefusalText(reason);
  return asResponse(
    noticePage(
      text.status,
      text.title,
      text.message,
      deps.agency,
      html`<p class="muted" data-refusal="${reason}">${deps.agency.name}</p>`,
    ),
  );
}

async function inviteRoute(
  deps: WebDeps,
  method: string,
  clientId: string,
  /** What follows the client id in the path. */
  after: string[],
  query: URLSearchParams,
  form: URLSearchParams,
  cookies: Record<string, string>,
): Promise<WebResponse> {
  const action = `/invite/${encodeURIComponent(clientId)}`;
  const token = (method === 'POST' ? form.get('i') : query.get('i')) ?? '';
  let nonce = cookies[INVITE_COOKIE];
  const setCookies: string[] = [];
  if (nonce === undefined || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) {
    nonce = randomBytes(18).toString('base64url');
    setCookies.push(cookie(INVITE_COOKIE, nonce, { maxAgeSeconds: 3600, path: '/invite' }));
  }
  const show = async (error?: string) => {
    const opened = await openInvite(deps.invites, clientId, token);
    const page = invitePage({
      agency: deps.agency,
      client: await brandingOf(deps, opened.client),
      token,
      csrf: inviteCsrf(deps, token, nonce),
      networks: opened.networks,
      action,
      error,
    });
    return asResponse(page, setCookies);
  };
  try {
    if (after.length === 0 && method === 'GET') return await show();
    if (method !== 'POST' || after.length !== 1) return notFound(deps);
    if (!sameToken(form.get('csrf') ?? '', inviteCsrf(deps, token, nonce))) {
      return asResponse(
        noticePage(
          403,
          'Refused',
          'The form is out of date; nothing was changed. Open the invite link again.',
          deps.agency,
        ),
        setCookies,
      );
    }
    if (after[0] === 'start') {
      const network = form.get('network');
      if (network !== 'x' && network !== 'mastodon') return await show('Pick X or Mastodon.');
      try {
        const { authorizeUrl } = await startInviteAuthorization(deps.invites, clientId, token, {
          network,
          instance: form.get('instance') ?? undefined,
        });
        const opened = await openInvite(deps.invites, clientId, token);
        return asResponse(
          continueToNetworkPage(await brandingOf(deps, opened.client), network, authorizeUrl),
          setCookies,
        );
      } catch (error) {
        if (error instanceof ValidationError) return await show(error.message);
        throw error;
      }
    }
    if (after[0] === 'bluesky') {
      try {
        const done = await connectBlueskyByInvite(deps.invites, clientId, token, {
          identifier: form.get('identifier') ?? '',
          appPassword: form.get('appPassword') ?? '',
        });
        return asResponse(
          inviteDonePage(deps.agency, await brandingOf(deps, done.client), 'bluesky', done.account.handle),
        );
      } catch (error) {
        if (error instanceof InviteRefusedError) throw error;
        if (error instanceof FollowbackError && error.name !== 'StoreError') {
          // A wrong password, a bad handle: say so, never echo the password.
          return await show(
            error.name === 'AuthError'
              ? 'Bluesky did not accept that handle and app password. Check both and try again.'
              : error.message,
          );
        }
        throw error;
      }
    }
    return notFound(deps);
  } catch (error) {
    if (error instanceof InviteRefusedError) return refusalPage(deps, error.reason);
    throw error;
  }
}

async function oauthCallback(deps: WebDeps, query: URLSearchParams): Promise<WebResponse> {
  try {
    const done = await finishInviteAuthorization(deps.invites, {
      state: query.get('state') ?? undefined,
      code: query.get('code') ?? undefined,
      error: query.get('error') ?? undefined,
    });
    return asResponse(
      inviteDonePage(
        deps.agency,
        await brandingOf(deps, done.client),
        done.account.network,
        done.account.handle,
      ),
    );
  } catch (error) {
    if (error instanceof InviteRefusedError) return refusalPage(deps, error.reason);
    if (error instanceof ValidationError) {
      return asResponse(
        noticePage(
          400,
          'Not connected',
          `${error.message}. Open the invite link again to retry.`,
          deps.agency,
        ),
      );
    }
    throw error;
  }
}
