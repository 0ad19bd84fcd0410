/** Lambda entry: the account worker (SQS event source, partial batch failures). */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { systemClock } from '../shared/adapters/clock.ts';
import {
  createAwsCredentialStore,
  createAwsDynamoClient,
  createAwsStore,
  createPlatformFactory,
} from '../shared/runtime/aws.ts';
import { processAccountBatch } from './handlers/account-worker.ts';
import { accountWorkerEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';

const env = loadFunctionEnv(accountWorkerEnvSchema);
const observability = createObservability({
  service: 'account-worker',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});
const dynamo = createAwsDynamoClient(env);
const deps = {
  store: createAwsStore(env, dynamo),
  credentials: createAwsCredentialStore(env, dynamo),
  platformFor: createPlatformFactory(env),
  clock: systemClock,
  logger: observability.logger,
  metrics: observability.metrics,
  timeMarginMs: env.WORKER_TIME_MARGIN_MS,
  engine:
    env.X_APP_FOLLOWS_PER_DAY === undefined ? undefined : { appDailyCap: { x: env.X_APP_FOLLOWS_PER_DAY } },
};

export const handler = withObservability<SQSEvent, SQSBatchResponse>(observability, (event, context) =>
  processAccountBatch(event, context, deps),
);
