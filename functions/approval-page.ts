/** Lambda entry: the approval page behind a Function URL (auth NONE: the signed token is the auth). */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { systemClock } from '../shared/adapters/clock.ts';
import { parseApprovalKeys } from '../shared/app/approval/keys.ts';
import {
  createAwsConsoleStore,
  createAwsDigestStore,
  createAwsDynamoClient,
  createAwsStore,
  createSecretFetcher,
} from '../shared/runtime/aws.ts';
import { serveApprovalRequest } from './handlers/approval-page.ts';
import { approvalPageEnvSchema, loadFunctionEnv } from './lib/env.ts';
import { withObservability } from './lib/middleware.ts';
import { createObservability } from './lib/observability.ts';
import { cachedSecret } from './lib/secrets.ts';

const env = loadFunctionEnv(approvalPageEnvSchema);
const observability = createObservability({
  service: 'approval-page',
  stage: env.STAGE,
  level: env.LOG_LEVEL,
});
const dynamo = createAwsDynamoClient(env);
const consoleStore = createAwsConsoleStore(env, dynamo);
const deps = {
  store: createAwsStore(env, dynamo),
  uses: createAwsDigestStore(env, dynamo),
  clock: systemClock,
  keys: cachedSecret(createSecretFetcher(env), env.APPROVAL_KEY_SECRET_ARN, (value) =>
    parseApprovalKeys(value, 'approval signing key secret'),
  ),
  agencyName: env.AGENCY_NAME,
  audit: consoleStore,
  branding: consoleStore,
  logger: observability.logger,
};

export const handler = withObservability<LambdaFunctionURLEvent, LambdaFunctionURLResult>(
  observability,
  (event, _context) => serveApprovalRequest(event, deps),
);
