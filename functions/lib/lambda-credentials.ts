/**
 * The AWS SDK's default credential provider as the functions' bundles have it (infra/bundling.ts
 * aliases `@aws-sdk/credential-provider-node` to this file): Lambda hands every function its role's
 * credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so
 * the chain's other links (SSO, profiles, processes, web identity, container and instance metadata,
 * with the STS and SSO clients they carry: about 100 KB of every bundle) never answer there. Local
 * runs and tests do not use the bundles: they keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}): ReturnType<typeof fromEnv> =>
  fromEnv(init);
