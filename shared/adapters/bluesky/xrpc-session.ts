/**
 * Bluesky's XRPC over @atcute/client, with an app-password session the way the reference client
 * (@atproto/api's CredentialSession) keeps one:
 *
 * - Requests go to the account's PDS (the `#atproto_pds` endpoint of the DID document a login or a
 *   refresh returned; the service itself until then, or when there is none: an entryway proxies),
 *   with the access JWT, and ask for Bluesky's moderation labels (`atproto-accept-labelers`).
 * - An answer `400 ExpiredToken` (or a 401) refreshes the session once on the service
 *   (com.atproto.server.refreshSession with the refresh JWT; concurrent requests share one refresh)
 *   and the request is sent again with the new access JWT. A refresh that omits the DID document
 *   is completed by com.atproto.server.getSession, as the reference client does.
 * - A refresh refused (401, ExpiredToken, InvalidToken, another DID) ends the session: `onChange`
 *   hears `expired`, and the first answer is returned as it was. Any other refresh failure keeps
 *   the session for later.
 * - Every new session (login `create`, refresh `update`) is told to `onChange`.
 *
 * Failures are thrown as XrpcFailure (an error answer: status, XRPC error name, headers) or
 * XrpcRequestFailed (no answer: network, timeout), for the adapter to map.
 */
import type {} from '@atcute/atproto';
import type {} from '@atcute/bluesky';
import { Client, type FetchHandlerObject } from '@atcute/client';

/** Bluesky's own moderation service, whose labels the reference client asks for on every request. */
export const BSKY_LABELER_DID = 'did:plc:ar7c4by46qjdydhdevvrndac';

export interface XrpcSession {
  did: string;
  handle: string;
  accessJwt: string;
  refreshJwt: string;
}

export type XrpcSessionEvent = 'create' | 'update' | 'expired';

/** The XRPC names of an error answer without a JSON body, as the reference client names them. */
const STATUS_NAMES: Record<number, string> = {
  400: 'InvalidRequest',
  401: 'AuthenticationRequired',
  403: 'Forbidden',
  404: 'XRPCNotSupported',
  406: 'NotAcceptable',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'RateLimitExceeded',
  500: 'InternalServerError',
  501: 'MethodNotImplemented',
  502: 'UpstreamFailure',
  503: 'NotEnoughResources',
  504: 'UpstreamTimeout',
};

/** An XRPC error answer. `message` is the server's description, else the error's name. */
export class XrpcFailure extends Error {
  override readonly name = 'XrpcFailure';
  constructor(
    readonly status: number,
    readonly error: string,
    description: string | undefined,
    readonly headers: Headers,
  ) {
    super(description || error);
  }

  /** From atcute's failed response (its `UnknownXRPCError` for a body that is no XRPC error). */
  static of(response: { status: number; headers: Headers; data: { error: string; message?: string } }) {
    const unnamed = response.data.error === 'UnknownXRPCError';
    const error = unnamed ? (STATUS_NAMES[response.status] ?? `HTTP${response.status}`) : response.data.error;
    return new XrpcFailure(
      response.status,
      error,
      unnamed ? undefined : response.data.message,
      response.headers,
    );
  }
}

/** A request that got no answer (network, timeout). */
export class XrpcRequestFailed extends Error {
  override readonly name = 'XrpcRequestFailed';
}

export interface XrpcSessionOptions {
  service: URL;
  timeoutMs: number;
  onChange: (event: XrpcSessionEvent, session: XrpcSession | undefined) => void;
}

/** The session-keeping fetch handler of the account's XRPC client (`new Client({ handler })`). */
export class XrpcSessionHandler implements FetchHandlerObject {
  session: XrpcSession | undefined;
  readonly #options: XrpcSessionOptions;
  /** The service's own XRPC (login, refresh), without the session. */
  readonly #server: Client;
  #pds: URL | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(options: XrpcSessionOptions) {
    this.#options = options;
    this.#server = new Client({ handler: (path, init) => this.#send(new URL(path, options.service), init) });
  }

  async handle(pathname: string, init: RequestInit): Promise<Response> {
    // A refresh in flight ends first: its new access JWT serves this request.
    await this.#refreshing?.catch(() => undefined);
    const headers = new Headers(init.headers);
    headers.set('atproto-accept-labelers', `${BSKY_LABELER_DID};redact`);
    const token = this.session?.accessJwt;
    if (token === undefined || headers.has('authorization')) {
      return this.#send(this.#url(pathname), { ...init, headers });
    }
    headers.set('authorization', `Bearer ${token}`);
    const first = await this.#send(this.#url(pathname), { ...init, headers });
    if (this.session?.refreshJwt === undefined) return first;
    if (first.status !== 401 && !(await isExpiredToken(first))) return first;
    try {
      await this.refresh();
    } catch {
      return first;
    }
    const renewed = this.session?.accessJwt;
    if (renewed === undefined || renewed === token) return first;
    await first.body?.cancel();
    headers.set('authorization', `Bearer ${renewed}`);
    return this.#send(this.#url(pathname), { ...init, headers });
  }

  /** com.atproto.server.createSession on the service; the session on success, none on failure. */
  async login(identifier: string, password: string): Promise<void> {
    try {
      const answer = await this.#server.post('com.atproto.server.createSession', {
        input: { identifier, password },
      });
      if (!answer.ok) throw XrpcFailure.of(answer);
      this.session = sessionOf(answer.data);
      this.#pds = pdsOf(answer.data.didDoc);
      this.#options.onChange('create', this.session);
    } catch (error) {
      this.session = undefined;
      throw error;
    }
  }

  /** Refreshes the session (one refresh at a time). */
  refresh(): Promise<void> {
    if (this.session === undefined) return Promise.reject(new Error('no session to refresh'));
    if (this.#refreshing) return this.#refreshing;
    const refreshing = this.#refreshOnce().finally(() => {
      if (this.#refreshing === refreshing) this.#refreshing = undefined;
    });
    this.#refreshing = refreshing;
    return refreshing;
  }

  async #refreshOnce(): Promise<void> {
    const session = this.session;
    if (session === undefined) throw new Error('no session to refresh');
    try {
      const answer = await this.#server.post('com.atproto.server.refreshSession', {
        headers: { authorization: `Bearer ${session.refreshJwt}` },
        as: 'json',
      });
      if (!answer.ok) throw XrpcFailure.of(answer);
      const data = answer.data as Record<string, unknown> & { did: string };
      if (data.did !== session.did) {
        throw new XrpcFailure(400, 'InvalidDID', 'Invalid session', new Headers());
      }
      let didDoc = data.didDoc;
      let handle = data.handle;
      if (data.emailConfirmed == null || didDoc == null) {
        // Refreshes did not always return everything getSession does (the DID document above all).
        try {
          const current = await this.#server.get('com.atproto.server.getSession', {
            headers: { authorization: `Bearer ${String(data.accessJwt)}` },
          });
          if (current.ok && current.data.did === data.did) {
            didDoc = current.data.didDoc ?? didDoc;
            handle = current.data.handle ?? handle;
          }
        } catch {
          // Kept as the refresh answered.
        }
      }
      if (this.session !== session) throw new Error('concurrent session update');
      this.session = sessionOf({ ...data, handle: handle ?? session.handle });
      this.#pds = pdsOf(didDoc);
      this.#options.onChange('update', this.session);
    } catch (error) {
      if (this.session === session && error instanceof XrpcFailure && refusesRefresh(error)) {
        this.session = undefined;
        this.#options.onChange('expired', undefined);
      }
      throw error;
    }
  }

  #url(pathname: string): URL {
    return new URL(pathname, this.#pds ?? this.#options.service);
  }

  async #send(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.#options.timeoutMs) });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new XrpcRequestFailed(reason, { cause });
    }
  }
}

function refusesRefresh(error: XrpcFailure): boolean {
  return (
    error.status === 401 ||
    error.error === 'InvalidDID' ||
    error.error === 'ExpiredToken' ||
    error.error === 'InvalidToken'
  );
}

/** Whether the answer is `400 ExpiredToken` (read from a copy: the caller reads the answer itself). */
async function isExpiredToken(response: Response): Promise<boolean> {
  if (response.status !== 400) return false;
  if (!/\bapplication\/json\b/.test(response.headers.get('content-type') ?? '')) return false;
  try {
    const body: unknown = await response.clone().json();
    return (
      typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'ExpiredToken'
    );
  } catch {
    return false;
  }
}

function sessionOf(data: Record<string, unknown>): XrpcSession {
  const { did, handle, accessJwt, refreshJwt } = data;
  if (
    typeof did !== 'string' ||
    typeof handle !== 'string' ||
    typeof accessJwt !== 'string' ||
    typeof refreshJwt !== 'string'
  ) {
    throw new TypeError('the session answer lacks did, handle, accessJwt or refreshJwt');
  }
  return { did, handle, accessJwt, refreshJwt };
}

/** The PDS endpoint of a DID document (`#atproto_pds`, AtprotoPersonalDataServer), if it names one. */
function pdsOf(didDoc: unknown): URL | undefined {
  if (typeof didDoc !== 'object' || didDoc === null) return undefined;
  const { id, service } = didDoc as { id?: unknown; service?: unknown };
  if (typeof id !== 'string' || !Array.isArray(service)) return undefined;
  for (const entry of service as { id?: unknown; type?: unknown; serviceEndpoint?: unknown }[]) {
    if (entry?.id !== '#atproto_pds' && entry?.id !== `${id}#atproto_pds`) continue;
    if (entry.type !== 'AtprotoPersonalDataServer' || typeof entry.serviceEndpoint !== 'string')
      return undefined;
    try {
      const url = new URL(entry.serviceEndpoint);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
