import { runtimeEnvSchema } from '../../shared/config/env.ts';
import { parseConfig } from '../../shared/config/validate.ts';
import { xOAuthEnvSchema } from '../../shared/config/x-oauth.ts';
import * as z from '../../shared/config/zod.ts';

/**
 * What each function reads from its environment, validated once at cold start: a missing or bad
 * variable stops the function with a ConfigError naming it. The stack sets exactly these.
 */
const base = z.extend(runtimeEnvSchema, {
  STAGE: z._default(z.string().check(z.minLength(1)), 'local'),
});

export const tickDispatchEnvSchema = z.extend(base, {
  ACCOUNT_QUEUE_URL: z.url(),
  TICK_MINUTES: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(60)), 15),
});

/** A Secrets Manager secret, by ARN (or name, for tests and local runs). */
const secretId = z.string().check(z.minLength(1), z.maxLength(2048));

export const accountWorkerEnvSchema = z
  .extend(base, {
    /** KMS key (ARN or id) that sealed the credentials. */
    VAULT_KEY_ID: z.string().check(z.minLength(1)),
    /** Held back from the Lambda's remaining time for committing and releasing the lease. */
    WORKER_TIME_MARGIN_MS: z._default(z.coerce.number().check(z.int(), z.gte(0)), 10_000),
    /** App-wide follows per day on X for the whole deployment (the engine's appDailyCap.x). */
    X_APP_FOLLOWS_PER_DAY: z.optional(z.coerce.number().check(z.int(), z.positive())),
    /** The X app's OAuth 2.0 Client ID, for refreshing tokens. */
    X_CLIENT_ID: xOAuthEnvSchema.shape.X_CLIENT_ID,
    /** A confidential client's secret as a plain value: local runs and tests only (refused in prod). */
    X_CLIENT_SECRET: xOAuthEnvSchema.shape.X_CLIENT_SECRET,
    /** A confidential client's secret, read from Secrets Manager (what the stack sets, if anything). */
    X_CLIENT_SECRET_ARN: z.optional(secretId),
    X_TOKEN_URL: xOAuthEnvSchema.shape.X_TOKEN_URL,
  })
  .check(
    z.superRefine((env, ctx) => {
      if (env.X_CLIENT_SECRET !== undefined && env.X_CLIENT_SECRET_ARN !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['X_CLIENT_SECRET'],
          message: 'set X_CLIENT_SECRET or X_CLIENT_SECRET_ARN, not both',
        });
      } else if (env.X_CLIENT_SECRET !== undefined && env.STAGE === 'prod') {
        ctx.addIssue({
          code: 'custom',
          path: ['X_CLIENT_SECRET'],
          message:
            'must not be a plain variable in prod: put the secret in Secrets Manager (X_CLIENT_SECRET_ARN)',
        });
      }
    }),
  );

/** Who sends the digests and receives the roll-up (the dispatcher and the worker must agree). */
const agencyEnv = {
  AGENCY_NAME: z.string().check(z.minLength(1)),
  SENDER_ADDRESS: z.email(),
  OPERATOR_EMAIL: z.email(),
};

export const digestDispatchEnvSchema = z.extend(base, {
  DIGEST_QUEUE_URL: z.url(),
  ...agencyEnv,
});

export const digestWorkerEnvSchema = z.extend(base, {
  ...agencyEnv,
  SES_CONFIGURATION_SET: z.string().check(z.minLength(1)),
  /** The approval page's public address (the Function URL): links in the digest point there. */
  APPROVAL_BASE_URL: z.url({ protocol: /^https?$/ }),
  /** The approval links' signing keys (`APPROVAL_SIGNING_KEY` format: base64, comma-separated). */
  APPROVAL_KEY_SECRET_ARN: secretId,
});

export const approvalPageEnvSchema = z.extend(base, {
  AGENCY_NAME: z.string().check(z.minLength(1)),
  APPROVAL_KEY_SECRET_ARN: secretId,
});

/** Parses the environment with `schema`; empty strings count as unset. */
export function loadFunctionEnv<S extends z.core.$ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  return parseConfig(schema, present, 'environment');
}
