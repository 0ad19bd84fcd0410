/** Lambda entry: the account tick's dispatcher (EventBridge Scheduler, every TICK_MINUTES). */
import type { Context } from 'aws-lambda';
import { systemClock } from '../shared/adapters/clock.ts';
import { createAwsStore, createSqsClient } from '../shared/runtime/aws.ts';
import { dispatchAccountTicks } from './handlers/tick-dispatch.ts';
import { loadFunctionEnv, tickDispatchEnvSchema } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';

const env = loadFunctionEnv(tickDispatchEnvSchema);
const observability = createObservability({
  service: 'tick-dispatch',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});
const deps = {
  store: createAwsStore(env),
  sqs: createSqsClient(env),
  queueUrl: env.ACCOUNT_QUEUE_URL,
  clock: systemClock,
  logger: observability.logger,
  metrics: observability.metrics,
  tickMinutes: env.TICK_MINUTES,
};

export const handler = withObservability(observability, (event: unknown, _context: Context) =>
  dispatchAccountTicks(event, deps),
);
