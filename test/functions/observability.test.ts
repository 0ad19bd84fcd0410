import { describe, expect, it } from 'vitest';
import { createObservability, redactSecrets, summarizeError } from '../../functions/lib/observability.ts';
import { AuthError } from '../../shared/domain/errors.ts';
import { captureOutput, jsonLines } from './support.ts';

const bearer = 'Bearer live-access-token-SECRET';

/** An HTTP client's error as twitter-api-v2 throws it: the request, headers and all, enumerable. */
function clientError(): Error {
  const error = new Error('Request failed with code 401');
  Object.assign(error, { request: { _header: `GET /2/users/me HTTP/1.1\r\nAuthorization: ${bearer}\r\n` } });
  return error;
}

describe('function logging', () => {
  it('writes an error as its name, message and causes, never its other properties', async () => {
    // Prepare
    const { logger } = createObservability({ service: 'test', stage: 'test', level: 'debug' });
    const error = new AuthError('users/me: credentials refused (401)', { cause: clientError() });

    // Act
    const { lines } = await captureOutput(async () =>
      logger.child({ clientId: 'acme' }).error('refused', { error }),
    );

    // Assess
    expect(lines.join('\n')).not.toContain('SECRET');
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        message: 'refused',
        clientId: 'acme',
        error: {
          name: 'AuthError',
          message: 'users/me: credentials refused (401)',
          cause: { name: 'Error', message: 'Request failed with code 401' },
        },
      }),
    );
  });

  it('redacts the values of secret-looking keys at any depth', async () => {
    const { logger } = createObservability({ service: 'test', stage: 'test', level: 'debug' });

    const { lines } = await captureOutput(async () =>
      logger.info('connected', {
        account: { accessToken: 'tok-SECRET', refresh_token: 'r-SECRET', handle: 'shop' },
      }),
    );

    expect(lines.join('\n')).not.toContain('SECRET');
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        account: { accessToken: '[redacted]', refresh_token: '[redacted]', handle: 'shop' },
      }),
    );
  });

  it('summarizes non-errors and deep cause chains without failing', () => {
    expect(summarizeError('plain')).toEqual({ name: 'string', message: 'plain' });
    expect(redactSecrets('authorization', bearer)).toBe('[redacted]');
    expect(redactSecrets('signingKey', 'k-SECRET')).toBe('[redacted]');
    expect(redactSecrets('periodKey', '2026-03-02')).toBe('2026-03-02');
    let deep: Error = new Error('root');
    for (let i = 0; i < 10; i++) deep = new Error(`level ${i}`, { cause: deep });
    expect(JSON.stringify(summarizeError(deep)).match(/level/g)).toHaveLength(5);
  });
});
