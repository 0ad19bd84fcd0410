/** Lambda entry: the hourly digest tick's dispatcher (EventBridge Scheduler, at the top of every hour). */
import type { Context } from 'aws-lambda';
import { digestDispatchEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';

const env = loadFunctionEnv(digestDispatchEnvSchema);
const observability = createObservability({
  service: 'digest-dispatch',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});

export const handler = withObservability(observability, async (_event: unknown, _context: Context) => {
  // TODO(integrator): call the digest dispatch use case from shared/app/digest/ (clients whose local
  // send time has come -> one message each on env.DIGEST_QUEUE_URL, with sendInBatches).
  throw new Error('digest use case not wired yet');
});
