/**
 * Composition on AWS: the real adapters, built from a function's validated environment. Each factory
 * creates only what it is asked for, so a function's bundle holds only the SDK clients it uses.
 * Clients are created once per Lambda container (at cold start) and reused across invocations.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoClient } from '../adapters/dynamo/client.ts';
import { DynamoCredentialStore } from '../adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../adapters/dynamo/store.ts';
import { KmsVault } from '../adapters/vault/kms-vault.ts';
import { XPlatform } from '../adapters/x/x-platform.ts';
import type { RuntimeEnv } from '../config/env.ts';
import type { AccountRecord } from '../domain/account.ts';
import { ConfigError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Platform } from '../ports/platform.ts';

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

/** How a worker reaches an account's network with its opened credentials. */
export type PlatformFactory = (account: AccountRecord, accessToken: string) => Platform;

export function createPlatformFactory(env: Pick<RuntimeEnv, 'X_API_BASE_URL'>): PlatformFactory {
  return (account, accessToken) => {
    if (account.network !== 'x') {
      throw new ConfigError(
        `network ${account.network} has no adapter yet (account ${account.clientId}/${account.accountId})`,
        {
          details: { network: account.network },
        },
      );
    }
    return new XPlatform({ baseUrl: env.X_API_BASE_URL, accessToken });
  };
}
