import { describe, expect, it } from 'vitest';
import { DEV_X_CLIENT_ID_PLACEHOLDER, resolveDeployConfig, stages } from '../../infra/config.ts';
import { ConfigError } from '../../shared/domain/errors.ts';

describe('deploy config', () => {
  it('defaults to the dev stage with no context, environment-agnostic', () => {
    // Act
    const config = resolveDeployConfig();

    // Assess
    expect(config).toEqual(stages.dev);
    expect(config.account).toBeUndefined();
    expect(config.tickMinutes).toBe(15);
  });

  it('selects a stage from context and applies nested overrides field by field', () => {
    // Act
    const config = resolveDeployConfig({
      stage: 'prod',
      config: JSON.stringify({
        account: '123456789012',
        xClientId: 'prod-client-id',
        caps: { workerMaxConcurrency: 50 },
      }),
    });

    // Assess
    expect(config.stage).toBe('prod');
    expect(config.account).toBe('123456789012');
    expect(config.caps).toEqual({ ...stages.prod.caps, workerMaxConcurrency: 50 });
    expect(config.xClientId).toBe('prod-client-id');
  });

  it('gives dev a placeholder X client id so synth works offline, and takes a confidential app’s secret by ARN', () => {
    // Act
    const dev = resolveDeployConfig();
    const confidential = resolveDeployConfig({
      config: {
        xClientId: 'agency-app',
        xClientSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:followback/x-client-AbC123',
      },
    });

    // Assess
    expect(dev.xClientId).toBe(DEV_X_CLIENT_ID_PLACEHOLDER);
    expect(dev.xClientSecretArn).toBeUndefined();
    expect(confidential).toMatchObject({
      xClientId: 'agency-app',
      xClientSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:followback/x-client-AbC123',
    });
  });

  it.each([
    [{ stage: 'qa' }, 'stage'],
    [{ config: { tickMinutes: 2 } }, 'tickMinutes'],
    [{ config: { caps: { workerMaxConcurrency: 1 } } }, 'caps.workerMaxConcurrency'],
    [{ config: { caps: { xAppFollowsPerDay: 1001 } } }, 'caps.xAppFollowsPerDay'],
    [{ config: { worker: { batchSize: 11 } } }, 'worker.batchSize'],
    [{ config: { operatorEmail: 'not an address' } }, 'operatorEmail'],
    [{ config: { senderAddress: 'digest@elsewhere.example.org' } }, 'senderAddress'],
    [{ config: { logRetentionDays: 10 } }, 'logRetentionDays'],
    [{ config: { region: 'Europe' } }, 'region'],
    [{ config: { xApiBaseUrl: 'http://api.x.com' } }, 'xApiBaseUrl'],
    [{ config: { colour: 'blue' } }, 'colour'],
    [{ config: 'not json' }, 'config'],
    [{ stage: 'prod' }, 'xClientId: is required'],
    [{ config: { xClientId: ' ' } }, 'xClientId'],
    [{ config: { xTokenUrl: 'http://api.x.com/2/oauth2/token' } }, 'xTokenUrl'],
    [{ config: { xClientSecretArn: 'my-x-secret' } }, 'xClientSecretArn'],
    [
      { config: { xClientSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:followback/x' } },
      'xClientSecretArn',
    ],
  ])('refuses %j with a ConfigError naming %s', (context, field) => {
    // Act
    const resolving = () => resolveDeployConfig(context);

    // Assess
    expect(resolving).toThrow(ConfigError);
    expect(resolving).toThrow(field);
  });
});
