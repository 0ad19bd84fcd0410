/** Lambda entry: the account worker (SQS event source, partial batch failures). */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { systemClock } from '../shared/adapters/clock.ts';
import { DynamoRefreshLock } from '../shared/adapters/dynamo/refresh-lock.ts';
import { DynamoUnfollowQueue } from '../shared/adapters/dynamo/unfollow-store.ts';
import { xOAuthApps } from '../shared/adapters/x/x-oauth-client.ts';
import { xTokenRefresherFor } from '../shared/app/connect/x-apps.ts';
import { X_AUTHORIZE_URL_DEFAULT } from '../shared/config/x-oauth.ts';
import {
  createAwsConsoleStore,
  createAwsCredentialStore,
  createAwsDigestStore,
  createAwsDynamoClient,
  createAwsStore,
  createSecretFetcher,
  createXTokenRefresher,
} from '../shared/runtime/aws.ts';
import { createPlatformFactory } from '../shared/runtime/aws-platforms.ts';
import { processAccountBatch } from './handlers/account-worker.ts';
import { accountWorkerEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';
import { cachedSecret } from './lib/secrets.ts';

const env = loadFunctionEnv(accountWorkerEnvSchema);
const observability = createObservability({
  service: 'account-worker',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});
const dynamo = createAwsDynamoClient(env);
const { X_CLIENT_SECRET: plainSecret, X_CLIENT_SECRET_ARN: secretArn } = env;
// A confidential X app's secret: from Secrets Manager (deployed), or a plain variable (local runs).
const xClientSecret =
  secretArn !== undefined
    ? cachedSecret(createSecretFetcher(env), secretArn, (value) => value.trim())
    : plainSecret !== undefined
      ? async () => plainSecret
      : undefined;
const consoleStore = createAwsConsoleStore(env, dynamo);
const store = createAwsStore(env, dynamo);
const credentials = createAwsCredentialStore(env, dynamo);
// Accounts of a client with its own X app refresh through that app (its secret sealed by the vault).
const xApps = {
  registry: store,
  credentials,
  deployment: { clientId: env.X_CLIENT_ID, secret: xClientSecret },
  oauthApp: xOAuthApps({
    authorizeUrl: X_AUTHORIZE_URL_DEFAULT,
    tokenUrl: env.X_TOKEN_URL,
    clock: systemClock,
  }),
};
const deps = {
  store,
  platformFor: createPlatformFactory({
    xApiBaseUrl: env.X_API_BASE_URL,
    credentials,
    xTokens: createXTokenRefresher(env, systemClock, xClientSecret),
    xAppTokens: (account) =>
      account.network === 'x' && account.xAppClientId !== undefined
        ? xTokenRefresherFor(xApps, account)
        : undefined,
    refreshLock: new DynamoRefreshLock({ client: dynamo, tableName: env.TABLE_NAME }),
    clock: systemClock,
    blueskyService: env.BLUESKY_SERVICE,
  }),
  clock: systemClock,
  samples: createAwsDigestStore(env, dynamo),
  unfollows: {
    queue: new DynamoUnfollowQueue({ client: dynamo, tableName: env.TABLE_NAME }),
    audit: consoleStore,
    unfollowed: consoleStore,
  },
  logger: observability.logger,
  metrics: observability.metrics,
  timeMarginMs: env.WORKER_TIME_MARGIN_MS,
  engine:
    env.X_APP_FOLLOWS_PER_DAY === undefined ? undefined : { appDailyCap: { x: env.X_APP_FOLLOWS_PER_DAY } },
};

export const handler = withObservability<SQSEvent, SQSBatchResponse>(observability, (event, context) =>
  processAccountBatch(event, context, deps),
);
