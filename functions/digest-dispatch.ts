/** Lambda entry: the hourly digest tick's dispatcher (EventBridge Scheduler, at the top of every hour). */
import type { Context } from 'aws-lambda';
import { systemClock } from '../shared/adapters/clock.ts';
import {
  createAwsDigestStore,
  createAwsDynamoClient,
  createAwsStore,
  createSqsClient,
} from '../shared/runtime/aws.ts';
import { dispatchDigests } from './handlers/digest-dispatch.ts';
import { agencyOf } from './lib/agency.ts';
import { digestDispatchEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';

const env = loadFunctionEnv(digestDispatchEnvSchema);
const observability = createObservability({
  service: 'digest-dispatch',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});
const dynamo = createAwsDynamoClient(env);
const deps = {
  store: createAwsStore(env, dynamo),
  runs: createAwsDigestStore(env, dynamo),
  agency: agencyOf(env),
  sqs: createSqsClient(env),
  queueUrl: env.DIGEST_QUEUE_URL,
  clock: systemClock,
  logger: observability.logger,
  metrics: observability.metrics,
};

export const handler = withObservability(observability, (event: unknown, _context: Context) =>
  dispatchDigests(event, deps),
);
