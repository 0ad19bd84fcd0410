import {
  createOAuthAPIClient,
  createRestAPIClient,
  MastoDeserializeError,
  MastoHttpError,
  MastoTimeoutError,
  type mastodon,
} from 'masto';
import * as z from '../../config/zod.ts';
import {
  AuthError,
  ConfigError,
  MalformedResponseError,
  TransientPlatformError,
  ValidationError,
} from '../../domain/errors.ts';
import type {
  MastodonApp,
  MastodonCredentialAccount,
  MastodonEndpoints,
  MastodonOAuth,
} from '../../ports/mastodon-oauth.ts';
import { OAuthGrantError } from '../../ports/oauth.ts';

/**
 * The Mastodon OAuth port: app registration (`v1.apps.create`), the code exchange
 * (`oauth.token.create`) and `verify_credentials` on masto; the instance's OAuth metadata, which
 * masto does not read, by one GET. Each answer is checked against its wire shape; every request has
 * a timeout and follows no redirect (a token or a code never goes elsewhere); errors name the
 * endpoint and the instance's error, never a secret, and carry nothing of the request.
 */
export interface MastodonOAuthOptions {
  /** Per-request timeout of the calls to the instance (default 10 s). */
  timeoutMs?: number | undefined;
}

export function createMastodonOAuth(options: MastodonOAuthOptions = {}): MastodonOAuth {
  const timeout = options.timeoutMs ?? 10_000;
  const config = (url: string, accessToken?: string) => ({
    url,
    timeout,
    // masto logs request bodies (the app's secret, the code) at `debug`; nothing below `error`.
    log: 'error' as const,
    requestInit: { redirect: 'error' as const, headers: { accept: 'application/json' } },
    ...(accessToken === undefined ? {} : { accessToken }),
  });
  return {
    discover: (instanceUrl) => discover(instanceUrl, timeout),
    async registerApp(instanceUrl, input): Promise<MastodonApp> {
      const app = parseOrThrow(
        'apps',
        appSchema,
        await call('apps', instanceUrl, () =>
          createRestAPIClient(config(instanceUrl)).v1.apps.create({
            clientName: input.clientName,
            redirectUris: input.redirectUri,
            scopes: input.scopes,
            ...(input.website === undefined ? {} : { website: input.website }),
          }),
        ),
      );
      return { clientId: app.clientId, clientSecret: app.clientSecret };
    },
    async exchangeCode(instanceUrl, input) {
      // masto sends the code to `<instance>/oauth/token`: discover() takes no metadata naming another.
      const params: mastodon.oauth.CreateTokenWithAuthorizationCodeParams & { codeVerifier?: string } = {
        grantType: 'authorization_code',
        code: input.code,
        clientId: input.clientId,
        clientSecret: input.clientSecret,
        redirectUri: input.redirectUri,
        scope: input.scope,
        ...(input.codeVerifier === undefined ? {} : { codeVerifier: input.codeVerifier }),
      };
      if (input.tokenEndpoint !== `${instanceUrl}/oauth/token`) {
        throw new ValidationError(
          `Mastodon oauth/token: ${instanceUrl} names its token endpoint elsewhere; masto reaches only /oauth/token`,
          { details: { endpoint: 'oauth/token', instance: instanceUrl } },
        );
      }
      const answer = await call('oauth/token', instanceUrl, () =>
        createOAuthAPIClient(config(instanceUrl)).token.create(params),
      );
      const token = parseOrThrow('oauth/token', tokenSchema, answer);
      return { accessToken: token.accessToken, scope: token.scope };
    },
    async verifyCredentials(instanceUrl, accessToken): Promise<MastodonCredentialAccount> {
      const account = parseOrThrow(
        'accounts/verify_credentials',
        credentialAccountSchema,
        await call('accounts/verify_credentials', instanceUrl, () =>
          createRestAPIClient(config(instanceUrl, accessToken)).v1.accounts.verifyCredentials(),
        ),
      );
      return { id: account.id, username: account.username, acct: account.acct, url: account.url };
    },
  };
}

const metadataSchema = z.object({
  authorization_endpoint: z.string().check(z.minLength(1)),
  token_endpoint: z.string().check(z.minLength(1)),
  code_challenge_methods_supported: z.optional(z.array(z.string())),
});

// masto hands answers over with their keys in camelCase.
const appSchema = z.object({
  clientId: z.string().check(z.minLength(1)),
  clientSecret: z.string().check(z.minLength(1)),
});

const tokenSchema = z.object({
  accessToken: z.string().check(z.minLength(1)),
  tokenType: z.string().check(z.regex(/^bearer$/i, 'must be Bearer')),
  scope: z.optional(z.string()),
});

const credentialAccountSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  username: z.string().check(z.minLength(1), z.maxLength(200)),
  acct: z.string().check(z.minLength(1), z.maxLength(400)),
  url: z.optional(z.string()),
});

/** The instance's authorize and token endpoints, and whether it takes PKCE. */
async function discover(instanceUrl: string, timeoutMs: number): Promise<MastodonEndpoints> {
  const fallback = {
    authorize: `${instanceUrl}/oauth/authorize`,
    token: `${instanceUrl}/oauth/token`,
    pkce: false,
  };
  const metadata = metadataSchema.safeParse(await optionalJson(instanceUrl, timeoutMs));
  if (!metadata.success) return fallback;
  const sameOrigin = (raw: string) => {
    try {
      return new URL(raw).origin === instanceUrl;
    } catch {
      return false;
    }
  };
  const { authorization_endpoint: authorize, token_endpoint: token } = metadata.data;
  // The endpoints must be the instance's own: a token or a code never goes anywhere else. The token
  // endpoint must be Mastodon's own path too, where masto sends the code.
  if (!sameOrigin(authorize) || token !== fallback.token) return fallback;
  return {
    authorize,
    token,
    pkce: metadata.data.code_challenge_methods_supported?.includes('S256') ?? false,
  };
}

/** The instance's OAuth metadata (RFC 8414), or undefined for anything but a JSON 200. */
async function optionalJson(instanceUrl: string, timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${instanceUrl}/.well-known/oauth-authorization-server`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    throw new TransientPlatformError(
      `Mastodon oauth metadata on ${instanceUrl} failed: ${failureReason(error)}`,
      { details: { endpoint: 'oauth metadata', instance: instanceUrl } },
    );
  }
  if (!response.ok) return undefined;
  return response.json().catch(() => undefined);
}

function parseOrThrow<S extends z.ZodMiniType>(endpoint: string, schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    // Name the fields, never the values (an answer may hold a token).
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
    throw new MalformedResponseError(`Mastodon ${endpoint}: unexpected answer at ${fields}`, {
      details: { endpoint },
    });
  }
  return parsed.data;
}

/** One masto call, its failure as the port's named error (module comment of ports/mastodon-oauth.ts). */
async function call<T>(endpoint: string, instance: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw instanceError(endpoint, instance, error);
  }
}

/**
 * - 429, 5xx, a timeout, a dropped connection: transient.
 * - At the token endpoint: 401 is the app refused (ConfigError); any other refusal is the grant's
 *   (OAuthGrantError, an AuthError).
 * - Elsewhere: 401 and 403 are the token's (AuthError); any other refusal is a ValidationError.
 * - An answer masto cannot read is malformed; an error answered in something other than JSON loses
 *   its status inside masto (a proxy's page) and is transient.
 * Nothing of the request is kept: no cause, only the endpoint, instance, status and the instance's
 * error code and description.
 */
function instanceError(endpoint: string, instance: string, error: unknown): Error {
  if (error instanceof MastoHttpError) {
    const status = error.statusCode;
    const details = { endpoint, instance, status };
    if (status === 429 || status >= 500) {
      return new TransientPlatformError(`Mastodon ${endpoint} failed: HTTP ${status}`, { details });
    }
    const said =
      typeof error.message === 'string' && error.message !== '' ? error.message.slice(0, 200) : undefined;
    const description = typeof error.description === 'string' ? error.description.slice(0, 200) : '';
    const message = `${instance} refused ${endpoint}: ${said ?? `HTTP ${status}`}${description ? ` (${description})` : ''}`;
    if (endpoint === 'oauth/token') {
      if (status === 401) return new ConfigError(message, { details });
      return new OAuthGrantError(said ?? `http_${status}`, message, { details });
    }
    if (status === 401 || status === 403) return new AuthError(message, { details });
    return new ValidationError(message, { details });
  }
  const details = { endpoint, instance };
  if (error instanceof MastoDeserializeError) {
    return new MalformedResponseError(`Mastodon ${endpoint}: the answer is not JSON`, { details });
  }
  if (error instanceof MastoTimeoutError) {
    return new TransientPlatformError(`Mastodon ${endpoint} on ${instance} failed: timed out`, { details });
  }
  return new TransientPlatformError(`Mastodon ${endpoint} on ${instance} failed: ${failureReason(error)}`, {
    details,
  });
}

/** A failed request's reason without anything it carried: the socket's code, or fetch's reason. */
function failureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message.slice(0, 100);
  return (error as Error | undefined)?.name ?? 'Error';
}
