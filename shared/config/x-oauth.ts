import { parseConfig } from './validate.ts';
import * as z from './zod.ts';

/**
 * The X app's OAuth 2.0 settings, for `followback connect x` and for refreshing tokens:
 *
 * - `X_CLIENT_ID`: the app's OAuth 2.0 Client ID (developer console, "Keys and tokens").
 * - `X_CLIENT_SECRET`: set for a confidential client (token calls then use HTTP Basic); leave unset
 *   for a public client (token calls send `client_id`).
 * - `X_AUTHORIZE_URL`, `X_TOKEN_URL`: X's endpoints, or the sandbox's (`<sandbox>/i/oauth2/authorize`,
 *   `<sandbox>/2/oauth2/token`).
 * - `X_API_BASE_URL`: where `GET /2/users/me` is asked who approved.
 */
export const X_AUTHORIZE_URL_DEFAULT = 'https://x.com/i/oauth2/authorize';
export const X_TOKEN_URL_DEFAULT = 'https://api.x.com/2/oauth2/token';

/**
 * What followback asks X for. X's OpenAPI description requires `tweet.read` and `users.read` beside
 * `follows.read` / `follows.write` on the follower, following and follow endpoints (and on
 * `users/me`), so `tweet.read` is asked too; `offline.access` brings a refresh token.
 */
export const X_OAUTH_SCOPES: readonly string[] = [
  'tweet.read',
  'users.read',
  'follows.read',
  'follows.write',
  'offline.access',
];

const httpUrl = z.url({ protocol: /^https?$/ });

export const xOAuthEnvSchema = z.object({
  X_CLIENT_ID: z
    .string({
      error: 'is required: the OAuth 2.0 Client ID of the X app (developer console, Keys and tokens)',
    })
    .check(z.trim(), z.minLength(1), z.maxLength(200)),
  X_CLIENT_SECRET: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  X_AUTHORIZE_URL: z._default(httpUrl, X_AUTHORIZE_URL_DEFAULT),
  X_TOKEN_URL: z._default(httpUrl, X_TOKEN_URL_DEFAULT),
  X_API_BASE_URL: z._default(httpUrl, 'https://api.x.com'),
});

export type XOAuthEnv = z.infer<typeof xOAuthEnvSchema>;

/** The X OAuth settings from the environment; a missing or bad one is a ConfigError naming it. */
export function loadXOAuthEnv(env: NodeJS.ProcessEnv = process.env): XOAuthEnv {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  return parseConfig(xOAuthEnvSchema, present, 'environment');
}
