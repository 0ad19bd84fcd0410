import * as z from 'zod';
import { runtimeEnvSchema } from '../../shared/config/env.ts';
import { xOAuthEnvSchema } from '../../shared/config/x-oauth.ts';

/** The console function's environment (validated at cold start; the stack sets exactly these). */
export const consoleEnvSchema = runtimeEnvSchema.extend({
  STAGE: z.string().min(1).default('local'),
  AGENCY_NAME: z.string().min(1),
  APPROVAL_KEY_SECRET_ARN: z.string().min(1).max(2048),
  VAULT_KEY_ID: z.string().min(1),
  COGNITO_USER_POOL_ID: z
    .string()
    .regex(/^[\w-]+_[0-9a-zA-Z]+$/, 'must be a user pool id such as eu-west-1_AbC123'),
  /** The secret (by name) holding the app client id: the client names the console URL, so the id cannot be a variable. */
  COGNITO_CLIENT_SECRET_ID: z.string().min(1).max(2048),
  COGNITO_DOMAIN: z.url({ protocol: /^https$/ }),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(30).max(3650).default(400),
  X_CLIENT_ID: xOAuthEnvSchema.shape.X_CLIENT_ID.optional(),
  X_CLIENT_SECRET_ARN: z.string().min(1).max(2048).optional(),
  X_TOKEN_URL: xOAuthEnvSchema.shape.X_TOKEN_URL,
  X_AUTHORIZE_URL: xOAuthEnvSchema.shape.X_AUTHORIZE_URL,
});
