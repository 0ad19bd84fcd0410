/**
 * Lambda entry: the operator console, the client invite pages and the OAuth callback behind a
 * Function URL (auth NONE: the console checks Cognito's ID token on every request; invites carry
 * their own signed token). Its reserved concurrency is bounded by the stack, so a flood of requests
 * cannot take the account workers' concurrency.
 */

import { KMSClient } from '@aws-sdk/client-kms';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { blueskyLogin } from '../shared/adapters/bluesky/bluesky-login.ts';
import { systemClock } from '../shared/adapters/clock.ts';
import { DynamoRefreshLock } from '../shared/adapters/dynamo/refresh-lock.ts';
import { createMastodonOAuth } from '../shared/adapters/mastodon/mastodon-oauth.ts';
import { KmsVault } from '../shared/adapters/vault/kms-vault.ts';
import { CognitoConsoleAuth, type VerifiedIdToken } from '../shared/adapters/web/cognito-auth.ts';
import { createXOAuthClient } from '../shared/adapters/x/x-oauth-client.ts';
import { XPlatform } from '../shared/adapters/x/x-platform.ts';
import { parseApprovalKeys } from '../shared/app/approval/keys.ts';
import type { ApprovalKeys } from '../shared/domain/approval/token.ts';
import {
  createAwsCredentialStore,
  createAwsDigestStore,
  createAwsDynamoClient,
  createAwsStore,
  createSecretFetcher,
  createXTokenRefresher,
} from '../shared/runtime/aws.ts';
import { createPlatformFactory } from '../shared/runtime/aws-platforms.ts';
import { wireWeb } from '../shared/runtime/console-server.ts';
import { serveConsoleRequest } from './handlers/console.ts';
import { consoleEnvSchema } from './lib/console-env.ts';
import { loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';
import { cachedSecret } from './lib/secrets.ts';

const env = loadFunctionEnv(consoleEnvSchema);
const observability = createObservability({ service: 'console', stage: env.STAGE, level: env.LOG_LEVEL });
const dynamo = createAwsDynamoClient(env);
const secrets = createSecretFetcher(env);
const keys = cachedSecret(secrets, env.APPROVAL_KEY_SECRET_ARN, (value) =>
  parseApprovalKeys(value, 'approval signing key secret'),
);
const cognitoClientId = cachedSecret(secrets, env.COGNITO_CLIENT_SECRET_ID, (value) => value.trim());
const xClientSecret =
  env.X_CLIENT_SECRET_ARN === undefined
    ? undefined
    : cachedSecret(secrets, env.X_CLIENT_SECRET_ARN, (value) => value.trim());
const store = createAwsStore(env, dynamo, systemClock);
const digests = createAwsDigestStore(env, dynamo);
const credentials = createAwsCredentialStore(env, dynamo, systemClock);
const vault = new KmsVault({ client: new KMSClient({ region: env.AWS_REGION }), keyId: env.VAULT_KEY_ID });
const platforms = createPlatformFactory({
  xApiBaseUrl: env.X_API_BASE_URL,
  credentials,
  xTokens:
    env.X_CLIENT_ID === undefined
      ? undefined
      : createXTokenRefresher(
          { X_CLIENT_ID: env.X_CLIENT_ID, X_TOKEN_URL: env.X_TOKEN_URL },
          systemClock,
          xClientSecret,
        ),
  refreshLock: new DynamoRefreshLock({ client: dynamo, tableName: env.TABLE_NAME }),
  clock: systemClock,
  blueskyService: env.BLUESKY_SERVICE,
});
// One verifier per container: it caches the pool's JWKS.
let verifier: Promise<(token: string) => Promise<VerifiedIdToken>> | undefined;
const verify = () => {
  verifier ??= cognitoClientId().then((clientId) => {
    const v = CognitoJwtVerifier.create({ userPoolId: env.COGNITO_USER_POOL_ID, clientId, tokenUse: 'id' });
    return async (token: string) => (await v.verify(token)) as unknown as VerifiedIdToken;
  });
  return verifier;
};

async function web(baseUrl: string) {
  const [signingKeys, clientId, check, secret] = await Promise.all([
    keys(),
    cognitoClientId(),
    verify(),
    xClientSecret === undefined ? Promise.resolve(undefined) : xClientSecret(),
  ]);
  const csrfKey = firstKey(signingKeys);
  const x =
    env.X_CLIENT_ID === undefined
      ? undefined
      : {
          oauth: createXOAuthClient(
            {
              X_CLIENT_ID: env.X_CLIENT_ID,
              X_CLIENT_SECRET: secret,
              X_AUTHORIZE_URL: env.X_AUTHORIZE_URL,
              X_TOKEN_URL: env.X_TOKEN_URL,
            },
            systemClock,
          ),
          me: (accessToken: string) => new XPlatform({ baseUrl: env.X_API_BASE_URL, accessToken }).me(),
        };
  return wireWeb(
    {
      store,
      digests,
      table: { client: dynamo, tableName: env.TABLE_NAME },
      clock: systemClock,
      keys: signingKeys,
      vault,
      credentials,
      agency: { name: env.AGENCY_NAME },
      auth: new CognitoConsoleAuth({
        userPoolId: env.COGNITO_USER_POOL_ID,
        clientId,
        domain: env.COGNITO_DOMAIN,
        baseUrl,
        csrfKey,
        clock: systemClock,
        verify: check,
      }),
      platformFor: (account) => platforms(account, { logger: observability.logger }),
      x,
      mastodon: createMastodonOAuth(),
      bluesky: { service: env.BLUESKY_SERVICE, login: blueskyLogin({ clock: systemClock }) },
      auditRetentionDays: env.AUDIT_RETENTION_DAYS,
      logger: observability.logger,
    },
    baseUrl,
  );
}

function firstKey(value: ApprovalKeys): string | Uint8Array {
  return Array.isArray(value) ? (value[0] as string | Uint8Array) : (value as string | Uint8Array);
}

export const handler = withObservability<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
  observability,
  (event, _context) => serveConsoleRequest(event, { web, logger: observability.logger }),
);
