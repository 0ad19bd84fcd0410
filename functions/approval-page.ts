/** Lambda entry: the approval page behind a Function URL (auth NONE: the signed token is the auth). */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { approvalPageEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';

const env = loadFunctionEnv(approvalPageEnvSchema);
const observability = createObservability({
  service: 'approval-page',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});

export const handler = withObservability<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
  observability,
  async (_event, _context) => {
    // TODO(integrator): call the approval use case from shared/app/approval/ (GET renders the page,
    // POST acts; key from env.APPROVAL_KEY_SECRET_ARN).
    throw new Error('approval use case not wired yet');
  },
);
