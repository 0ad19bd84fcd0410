/**
 * Composition on AWS: the real adapters, built from a function's validated environment. Each factory
 * creates only what it is asked for, so a function's bundle holds only the SDK clients it uses.
 * Clients are created once per Lambda container (at cold start) and reused across invocations.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoClient } from '../adapters/dynamo/client.ts';
import { DynamoConsoleStore } from '../adapters/dynamo/console-store.ts';
import { DynamoCredentialStore } from '../adapters/dynamo/credential-store.ts';
import { DynamoDigestStore } from '../adapters/dynamo/digest-store.ts';
import { DynamoStore } from '../adapters/dynamo/store.ts';
import { createSesClient, SesMailer } from '../adapters/ses/ses-mailer.ts';
import { KmsVault } from '../adapters/vault/kms-vault.ts';
import { createXOAuthClient } from '../adapters/x/x-oauth-client.ts';
import type { RuntimeEnv } from '../config/env.ts';
import { X_AUTHORIZE_URL_DEFAULT } from '../config/x-oauth.ts';
import { ConfigError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { OAuthTokenClient } from '../ports/oauth.ts';

type StoreEnv = Pick<RuntimeEnv, 'TABLE_NAME' | 'DYNAMODB_ENDPOINT' | 'AWS_REGION'>;

export function createAwsDynamoClient(env: StoreEnv): DynamoDBClient {
  return createDynamoClient({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION });
}

/** The Store on the deployment's table. */
export function createAwsStore(
  env: StoreEnv,
  client = createAwsDynamoClient(env),
  clock?: Clock,
): DynamoStore {
  return new DynamoStore({ client, tableName: env.TABLE_NAME, clock });
}

/** Digest runs, used approval tokens, follower samples and the unsubscribe flag, on the same table. */
export function createAwsDigestStore(env: StoreEnv, client = createAwsDynamoClient(env)): DynamoDigestStore {
  return new DynamoDigestStore({ client, tableName: env.TABLE_NAME });
}

/** Invites, the audit log and branding, on the same table. */
export function createAwsConsoleStore(
  env: StoreEnv & { AUDIT_RETENTION_DAYS?: number | undefined },
  client = createAwsDynamoClient(env),
): DynamoConsoleStore {
  return new DynamoConsoleStore({
    client,
    tableName: env.TABLE_NAME,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
  });
}

/** Connected accounts' credentials, sealed with the KMS key. */
export function createAwsCredentialStore(
  env: StoreEnv & { VAULT_KEY_ID: string },
  client = createAwsDynamoClient(env),
  clock?: Clock,
): DynamoCredentialStore {
  const vault = new KmsVault({ client: new KMSClient({ region: env.AWS_REGION }), keyId: env.VAULT_KEY_ID });
  return new DynamoCredentialStore({ client, tableName: env.TABLE_NAME, vault, clock });
}

export function createSqsClient(env: Pick<RuntimeEnv, 'AWS_REGION'>): SQSClient {
  return new SQSClient({ region: env.AWS_REGION });
}

/** The digest's Mailer: SES v2 through the deployment's configuration set. */
export function createAwsMailer(env: { AWS_REGION: string; SES_CONFIGURATION_SET: string }): SesMailer {
  return new SesMailer({
    client: createSesClient({ region: env.AWS_REGION }),
    configurationSetName: env.SES_CONFIGURATION_SET,
  });
}

/**
 * Reads a Secrets Manager secret's SecretString by ARN (the approval signing key, a confidential X
 * app's client secret). Callers cache what it returns for the container's life.
 */
export function createSecretFetcher(
  env: Pick<RuntimeEnv, 'AWS_REGION'>,
): (secretId: string) => Promise<string> {
  const client = new SecretsManagerClient({ region: env.AWS_REGION });
  return async (secretId) => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) {
      throw new ConfigError(`secret ${secretId}: has no SecretString`, { details: { secretId } });
    }
    return out.SecretString;
  };
}

/** The part of the X app's OAuth client the account worker uses. */
export type TokenRefresher = Pick<OAuthTokenClient, 'refresh'>;

/**
 * The X app's token endpoint client for refreshes. A confidential client's secret comes from
 * `clientSecret` (read once, on the first refresh, so a container that never refreshes never reads
 * it); without it the app is a public client (PKCE, `client_id` only).
 */
export function createXTokenRefresher(
  env: { X_CLIENT_ID: string; X_TOKEN_URL: string },
  clock: Clock,
  clientSecret?: () => Promise<string>,
): TokenRefresher {
  const settings = {
    X_CLIENT_ID: env.X_CLIENT_ID,
    X_TOKEN_URL: env.X_TOKEN_URL,
    X_AUTHORIZE_URL: X_AUTHORIZE_URL_DEFAULT,
  };
  if (clientSecret === undefined)
    return createXOAuthClient({ ...settings, X_CLIENT_SECRET: undefined }, clock);
  let client: Promise<TokenRefresher> | undefined;
  const open = () => {
    client ??= clientSecret().then(
      (secret) => createXOAuthClient({ ...settings, X_CLIENT_SECRET: secret }, clock),
      (error: unknown) => {
        client = undefined;
        throw error;
      },
    );
    return client;
  };
  return { refresh: async (refreshToken) => (await open()).refresh(refreshToken) };
}
