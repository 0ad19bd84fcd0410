import * as z from 'zod';
import { runtimeEnvSchema } from '../../shared/config/env.ts';
import { parseConfig } from '../../shared/config/validate.ts';

/**
 * What each function reads from its environment, validated once at cold start: a missing or bad
 * variable stops the function with a ConfigError naming it. The stack sets exactly these.
 */
const base = runtimeEnvSchema.extend({
  STAGE: z.string().min(1).default('local'),
});

export const tickDispatchEnvSchema = base.extend({
  ACCOUNT_QUEUE_URL: z.url(),
  TICK_MINUTES: z.coerce.number().int().min(1).max(60).default(15),
});

export const accountWorkerEnvSchema = base.extend({
  /** KMS key (ARN or id) that sealed the credentials. */
  VAULT_KEY_ID: z.string().min(1),
  /** Held back from the Lambda's remaining time for committing and releasing the lease. */
  WORKER_TIME_MARGIN_MS: z.coerce.number().int().min(0).default(10_000),
  /** App-wide follows per day on X for the whole deployment (the engine's appDailyCap.x). */
  X_APP_FOLLOWS_PER_DAY: z.coerce.number().int().positive().optional(),
});

export const digestDispatchEnvSchema = base.extend({
  DIGEST_QUEUE_URL: z.url(),
});

export const digestWorkerEnvSchema = base.extend({
  SENDER_ADDRESS: z.email(),
  SES_CONFIGURATION_SET: z.string().min(1),
  AGENCY_NAME: z.string().min(1),
  OPERATOR_EMAIL: z.email(),
  APPROVAL_BASE_URL: z.url(),
  APPROVAL_KEY_SECRET_ARN: z.string().min(1),
});

export const approvalPageEnvSchema = base.extend({
  AGENCY_NAME: z.string().min(1),
  APPROVAL_KEY_SECRET_ARN: z.string().min(1),
});

/** Parses the environment with `schema`; empty strings count as unset. */
export function loadFunctionEnv<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  return parseConfig(schema, present, 'environment');
}
