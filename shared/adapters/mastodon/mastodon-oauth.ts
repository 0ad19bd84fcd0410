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
 * The Mastodon OAuth port over HTTP: the instance's OAuth metadata, app registration, the code
 * exchange and `verify_credentials`, each answer checked against its wire shape. Plain fetch with a
 * timeout and no redirects (a token or a code never follows a redirect elsewhere); errors name the
 * endpoint and the instance's error, never a secret.
 */
export interface MastodonOAuthOptions {
  /** For tests; default: the global fetch. */
  fetch?: typeof fetch | undefined;
  /** Per-request timeout of the calls to the instance (default 10 s). */
  timeoutMs?: number | undefined;
}

export function createMastodonOAuth(options: MastodonOAuthOptions = {}): MastodonOAuth {
  const http = (instanceUrl: string) =>
    new InstanceHttp(instanceUrl, options.fetch ?? fetch, options.timeoutMs ?? 10_000);
  return {
    discover: (instanceUrl) => discover(http(instanceUrl), instanceUrl),
    async registerApp(instanceUrl, input): Promise<MastodonApp> {
      const app = parseOrThrow(
        'apps',
        appSchema,
        await http(instanceUrl).json('apps', `${instanceUrl}/api/v1/apps`, {
          method: 'POST',
          json: {
            client_name: input.clientName,
            redirect_uris: input.redirectUri,
            scopes: input.scopes,
            ...(input.website === undefined ? {} : { website: input.website }),
          },
        }),
      );
      return { clientId: app.client_id, clientSecret: app.client_secret };
    },
    async exchangeCode(instanceUrl, input) {
      const answer = await http(instanceUrl).json('oauth/token', input.tokenEndpoint, {
        method: 'POST',
        form: {
          grant_type: 'authorization_code',
          code: input.code,
          client_id: input.clientId,
          client_secret: input.clientSecret,
          redirect_uri: input.redirectUri,
          scope: input.scope,
          ...(input.codeVerifier === undefined ? {} : { code_verifier: input.codeVerifier }),
        },
      });
      const token = parseOrThrow('oauth/token', tokenSchema, answer);
      return { accessToken: token.access_token, scope: token.scope };
    },
    async verifyCredentials(instanceUrl, accessToken): Promise<MastodonCredentialAccount> {
      return parseOrThrow(
        'accounts/verify_credentials',
        credentialAccountSchema,
        await http(instanceUrl).json(
          'accounts/verify_credentials',
          `${instanceUrl}/api/v1/accounts/verify_credentials`,
          { method: 'GET', token: accessToken },
        ),
      );
    },
  };
}

const metadataSchema = z.object({
  authorization_endpoint: z.string().check(z.minLength(1)),
  token_endpoint: z.string().check(z.minLength(1)),
  code_challenge_methods_supported: z.optional(z.array(z.string())),
});

const appSchema = z.object({
  client_id: z.string().check(z.minLength(1)),
  client_secret: z.string().check(z.minLength(1)),
});

const tokenSchema = z.object({
  access_token: z.string().check(z.minLength(1)),
  token_type: z.string().check(z.regex(/^bearer$/i, 'must be Bearer')),
  scope: z.optional(z.string()),
});

const credentialAccountSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  username: z.string().check(z.minLength(1), z.maxLength(200)),
  acct: z.string().check(z.minLength(1), z.maxLength(400)),
  url: z.optional(z.string()),
});

/** The instance's authorize and token endpoints, and whether it takes PKCE. */
async function discover(http: InstanceHttp, instanceUrl: string): Promise<MastodonEndpoints> {
  const fallback = {
    authorize: `${instanceUrl}/oauth/authorize`,
    token: `${instanceUrl}/oauth/token`,
    pkce: false,
  };
  const answer = await http.optionalJson(
    'oauth metadata',
    `${instanceUrl}/.well-known/oauth-authorization-server`,
  );
  const metadata = metadataSchema.safeParse(answer);
  if (!metadata.success) return fallback;
  const sameOrigin = (raw: string) => {
    try {
      return new URL(raw).origin === instanceUrl;
    } catch {
      return false;
    }
  };
  const { authorization_endpoint: authorize, token_endpoint: token } = metadata.data;
  // The endpoints must be the instance's own: a token or a code never goes anywhere else.
  if (!sameOrigin(authorize) || !sameOrigin(token)) return fallback;
  return {
    authorize,
    token,
    pkce: metadata.data.code_challenge_methods_supported?.includes('S256') ?? false,
  };
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

const errorSchema = z.object({
  error: z.string().check(z.maxLength(300)),
  error_description: z.optional(z.string()),
});

/** A request to the instance: a JSON or form body, with the user's token when it acts for them. */
interface InstanceRequest {
  method: 'GET' | 'POST';
  json?: Record<string, unknown>;
  form?: Record<string, string>;
  token?: string;
}

/** JSON requests to one instance; errors name the endpoint and the instance's error, never a secret. */
class InstanceHttp {
  readonly #instance: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(instance: string, fetchImpl: typeof fetch, timeoutMs: number) {
    this.#instance = instance;
    this.#fetch = fetchImpl;
    this.#timeoutMs = timeoutMs;
  }

  /** The JSON of a 200 answer, or undefined for anything else (a missing optional endpoint). */
  async optionalJson(endpoint: string, url: string): Promise<unknown> {
    const response = await this.#send(endpoint, url, { method: 'GET' });
    if (!response.ok) return undefined;
    return response.json().catch(() => undefined);
  }

  async json(endpoint: string, url: string, request: InstanceRequest): Promise<unknown> {
    const response = await this.#send(endpoint, url, request);
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const details = { endpoint, instance: this.#instance, status: response.status };
    if (response.status === 429 || response.status >= 500) {
      throw new TransientPlatformError(`Mastodon ${endpoint} failed: HTTP ${response.status}`, { details });
    }
    if (!response.ok) {
      const error = errorSchema.safeParse(body);
      const code = error.success ? error.data.error.slice(0, 200) : `HTTP ${response.status}`;
      const description = error.success ? (error.data.error_description ?? '').slice(0, 200) : '';
      const message = `${this.#instance} refused ${endpoint}: ${code}${description ? ` (${description})` : ''}`;
      if (endpoint === 'oauth/token') {
        if (response.status === 401) throw new ConfigError(message, { details });
        throw new OAuthGrantError(error.success ? error.data.error : `http_${response.status}`, message, {
          details,
        });
      }
      if (response.status === 401 || response.status === 403) throw new AuthError(message, { details });
      throw new ValidationError(message, { details });
    }
    if (body === undefined) {
      throw new MalformedResponseError(`Mastodon ${endpoint}: the answer is not JSON`, { details });
    }
    return body;
  }

  async #send(endpoint: string, url: string, request: InstanceRequest): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | null = null;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    }
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    try {
      return await this.#fetch(url, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new TransientPlatformError(
        `Mastodon ${endpoint} on ${this.#instance} failed: ${cause?.code ?? (error as Error).name}`,
        { details: { endpoint, instance: this.#instance } },
      );
    }
  }
}
