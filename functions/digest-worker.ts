/** Lambda entry: the digest worker (SQS event source, one client per message, partial batch failures). */

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { systemClock } from '../shared/adapters/clock.ts';
import { mimeComposer } from '../shared/adapters/mime/mime-composer.ts';
import { parseApprovalKeys } from '../shared/app/approval/keys.ts';
import {
  createAwsConsoleStore,
  createAwsDigestStore,
  createAwsDynamoClient,
  createAwsMailer,
  createAwsStore,
  createSecretFetcher,
} from '../shared/runtime/aws.ts';
import { processDigestBatch } from './handlers/digest-worker.ts';
import { agencyOf } from './lib/agency.ts';
import { digestWorkerEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';
import { cachedSecret } from './lib/secrets.ts';

const env = loadFunctionEnv(digestWorkerEnvSchema);
const observability = createObservability({
  service: 'digest-worker',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});
const dynamo = createAwsDynamoClient(env);
const digests = createAwsDigestStore(env, dynamo);
const deps = {
  store: createAwsStore(env, dynamo),
  samples: digests,
  runs: digests,
  mailer: createAwsMailer(env),
  composer: mimeComposer,
  clock: systemClock,
  agency: agencyOf(env),
  branding: createAwsConsoleStore(env, dynamo),
  keys: cachedSecret(createSecretFetcher(env), env.APPROVAL_KEY_SECRET_ARN, (value) =>
    parseApprovalKeys(value, 'approval signing key secret'),
  ),
  baseUrl: env.APPROVAL_BASE_URL,
  logger: observability.logger,
  metrics: observability.metrics,
};

export const handler = withObservability<SQSEvent, SQSBatchResponse>(observability, (event, context) =>
  processDigestBatch(event, context, deps),
);
