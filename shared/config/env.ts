import { parseConfig } from './validate.ts';
import * as z from './zod.ts';

/**
 * LOG_LEVEL, the one schema every entry point validates it with (the functions through
 * runtimeEnvSchema, the CLI before any command runs): a typo is refused, never ignored.
 */
export const logLevelSchema = z._default(
  z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be one of debug, info, warn, error' }),
  'info',
);

/** Validates LOG_LEVEL alone (for entry points that read nothing else from the environment yet). */
export function loadLogLevel(env: NodeJS.ProcessEnv = process.env): z.infer<typeof logLevelSchema> {
  const value = env.LOG_LEVEL === '' ? undefined : env.LOG_LEVEL;
  return parseConfig(z.object({ LOG_LEVEL: logLevelSchema }), { LOG_LEVEL: value }, 'environment').LOG_LEVEL;
}

/** Environment of the runtime (Lambda or local), validated once at start. */
export const runtimeEnvSchema = z.object({
  /** X API base URL: X itself, the sandbox, or any X-compatible endpoint. */
  X_API_BASE_URL: z._default(z.url({ protocol: /^https?$/ }), 'https://api.x.com'),
  /** Bluesky's PDS or entryway for accounts that name none of their own. */
  BLUESKY_SERVICE: z._default(z.url({ protocol: /^https?$/ }), 'https://bsky.social'),
  TABLE_NAME: z._default(z.string().check(z.minLength(3), z.maxLength(255)), 'followback'),
  /** DynamoDB endpoint override (dynalite, moto); unset on AWS. */
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  LOG_LEVEL: logLevelSchema,
});

export type RuntimeEnv = z.infer<typeof runtimeEnvSchema>;

export function loadRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  // Empty strings count as unset, as shells and CI often export them that way.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  return parseConfig(runtimeEnvSchema, present, 'environment');
}
