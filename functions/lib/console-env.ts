import { runtimeEnvSchema } from '../../shared/config/env.ts';
import { xOAuthEnvSchema } from '../../shared/config/x-oauth.ts';
import * as z from '../../shared/config/zod.ts';

/** The console function's environment (validated at cold start; the stack sets exactly these). */
export const consoleEnvSchema = z.extend(runtimeEnvSchema, {
  STAGE: z._default(z.string().check(z.minLength(1)), 'local'),
  AGENCY_NAME: z.string().check(z.minLength(1)),
  APPROVAL_KEY_SECRET_ARN: z.string().check(z.minLength(1), z.maxLength(2048)),
  VAULT_KEY_ID: z.string().check(z.minLength(1)),
  COGNITO_USER_POOL_ID: z
    .string()
    .check(z.regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'must be a user pool id such as eu-west-1_AbC123')),
  /** The secret (by name) holding the app client id: the client names the console URL, so the id cannot be a variable. */
  COGNITO_CLIENT_SECRET_ID: z.string().check(z.minLength(1), z.maxLength(2048)),
  COGNITO_DOMAIN: z.url({ protocol: /^https$/ }),
  AUDIT_RETENTION_DAYS: z._default(z.coerce.number().check(z.int(), z.gte(30), z.lte(3650)), 400),
  X_CLIENT_ID: z.optional(xOAuthEnvSchema.shape.X_CLIENT_ID),
  X_CLIENT_SECRET_ARN: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  X_TOKEN_URL: xOAuthEnvSchema.shape.X_TOKEN_URL,
  X_AUTHORIZE_URL: xOAuthEnvSchema.shape.X_AUTHORIZE_URL,
});
