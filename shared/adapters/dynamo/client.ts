import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export interface DynamoClientOptions {
  /** An endpoint URL for dynalite, moto or DynamoDB Local; absent: the region's AWS endpoint. */
  endpoint?: string | undefined;
  region: string;
}

/**
 * A DynamoDBClient for followback. For a loopback endpoint it uses dummy credentials (no credential
 * chain, no instance-metadata probe), short connection/request timeouts and a retry strategy with
 * millisecond backoff: a local server is either there or not, so waiting seconds between attempts
 * only slows tests down. Elsewhere it keeps the SDK's defaults (credential chain, standard retries).
 */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const config: DynamoDBClientConfig = { region: options.region };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    if (isLoopback(options.endpoint)) {
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
      config.retryStrategy = quickRetryStrategy(3);
      config.requestHandler = { connectionTimeout: 2_000, requestTimeout: 30_000 };
    }
  }
  return new DynamoDBClient(config);
}

/** True for http(s)://127.x.x.x, localhost and [::1]. */
export function isLoopback(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/** Retries transient, throttling and server errors up to `maxAttempts` with 10, 20, 40… ms between. */
export function quickRetryStrategy(maxAttempts: number): NonNullable<DynamoDBClientConfig['retryStrategy']> {
  const token = (count: number): RetryToken => ({
    getRetryCount: () => count,
    getRetryDelay: () => (count === 0 ? 0 : Math.min(10 * 2 ** (count - 1), 200)),
  });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: RetryToken, errorInfo: { errorType: string }) => {
      const next = previous.getRetryCount() + 1;
      if (errorInfo.errorType === 'CLIENT_ERROR' || next >= maxAttempts) throw new Error('no more retries');
      return token(next);
    },
    recordSuccess: () => {},
  };
}
