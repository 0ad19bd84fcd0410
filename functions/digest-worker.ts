/** Lambda entry: the digest worker (SQS event source, one client per message, partial batch failures). */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { digestWorkerEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';

const env = loadFunctionEnv(digestWorkerEnvSchema);
const observability = createObservability({
  service: 'digest-worker',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});

export const handler = withObservability<SQSEvent, SQSBatchResponse>(
  observability,
  async (_event, _context) => {
    // TODO(integrator): call the digest use case from shared/app/digest/ (build and send one client's
    // digest once per period with SES v2 through env.SES_CONFIGURATION_SET from env.SENDER_ADDRESS).
    throw new Error('digest use case not wired yet');
  },
);
