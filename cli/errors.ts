import { FollowbackError } from '../shared/domain/errors.ts';

/**
 * What the CLI tells a person (or a script, with --json) when a command fails: the error's name,
 * a message that says what to do, and, where one helps, a hint. Errors that mean "the deployed
 * table was not reached" (no AWS credentials, expired ones, no network) say so, and point at
 * `--local` for the local store of `npm start`.
 */
export interface CliErrorReport {
  name: string;
  message: string;
  hint?: string | undefined;
  details?: Readonly<Record<string, unknown>> | undefined;
}

/** Names of the SDK's errors that mean no AWS identity is available or accepted. */
const NO_CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ProviderError',
  'TokenProviderError',
  'ExpiredTokenException',
  'ExpiredToken',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
]);
const NO_NETWORK = new Set(['ENOTFOUND', 'ECONNREFUSED', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET']);

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

const LOCAL_HINT =
  'to work on the local store of `npm start` instead, add --local (and --dir if it is elsewhere)';

export function reportOf(error: unknown): CliErrorReport {
  const chain = causes(error);
  const names = chain.map((e) => (e as { name?: unknown }).name).filter((n) => typeof n === 'string');
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c) => typeof c === 'string');
  const top = error instanceof FollowbackError ? error : undefined;
  if (names.some((n) => NO_CREDENTIALS.has(n as string))) {
    return {
      name: 'NoDeploymentError',
      message:
        'no deployment was reached: no valid AWS credentials were found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, and TABLE_NAME and AWS_REGION)',
      hint: LOCAL_HINT,
    };
  }
  if (top?.name === 'StoreError' && codes.some((c) => NO_NETWORK.has(c as string))) {
    return {
      name: 'NoDeploymentError',
      message: `no deployment was reached: DynamoDB did not answer (${codes.find((c) => NO_NETWORK.has(c as string))})`,
      hint: LOCAL_HINT,
    };
  }
  if (names.includes('ResourceNotFoundException')) {
    return {
      name: 'NoDeploymentError',
      message: 'no deployment was reached: the table does not exist (check TABLE_NAME and AWS_REGION)',
      hint: LOCAL_HINT,
    };
  }
  if (top !== undefined) {
    const hint = (top.details as { hint?: unknown }).hint;
    return {
      name: top.name,
      message: top.message,
      ...(typeof hint === 'string' ? { hint } : {}),
      ...(Object.keys(top.details).length > 0 ? { details: top.details } : {}),
    };
  }
  const plain = error instanceof Error ? error : new Error(String(error));
  return { name: plain.name || 'Error', message: plain.message };
}
