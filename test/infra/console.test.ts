import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleEnvSchema } from '../../functions/lib/console-env.ts';
import { loadFunctionEnv } from '../../functions/lib/env.ts';
import { CONSOLE_RESERVED_CONCURRENCY } from '../../infra/constructs/operator-console.ts';
import { logicalId, resourcesOf, roleStatements, type SynthesizedApp, synthesize } from './support.ts';

let dev: SynthesizedApp;

beforeAll(() => {
  dev = synthesize();
});

function consoleFunction() {
  const functions = resourcesOf(dev.statelessTemplate, 'AWS::Lambda::Function');
  const [id, fn] = Object.entries(functions).find(([key]) => key.startsWith('ConsoleFunction')) ?? [];
  if (id === undefined || fn === undefined) throw new Error('no console function');
  return { id, properties: (fn.Properties ?? {}) as Record<string, unknown> };
}

describe('the operator console stack', () => {
  it('makes a Cognito user pool without self sign-up, with MFA and a strong password policy, and the operator as its first user', () => {
    // Assess
    dev.statelessTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UsernameAttributes: ['email'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireSymbols: true }) },
    });
    dev.statelessTemplate.hasResourceProperties('AWS::Cognito::UserPoolUser', {
      Username: dev.config.operatorEmail,
      DesiredDeliveryMediums: ['EMAIL'],
    });
    dev.statelessTemplate.resourceCountIs('AWS::Cognito::ManagedLoginBranding', 1);
  });

  it('has one public app client: authorization code only, openid and email, called back on the console Function URL', () => {
    // Prepare
    const url = logicalId(dev.statelessTemplate, 'AWS::Lambda::Url', 'ConsoleFunction');

    // Assess
    dev.statelessTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [url, 'FunctionUrl'] }, 'console/auth']] }],
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('serves the console behind a Function URL with a bounded reserved concurrency', () => {
    // Prepare
    const fn = consoleFunction();

    // Assess
    expect(fn.properties.ReservedConcurrentExecutions).toBe(CONSOLE_RESERVED_CONCURRENCY);
    dev.statelessTemplate.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [fn.id, 'Arn'] },
    });
  });

  it('gives the console function exactly its table actions, the sealing key with a context, and its secrets', () => {
    // Prepare
    const role = logicalId(dev.statelessTemplate, 'AWS::IAM::Role', 'ConsoleFunctionRole');

    // Act
    const statements = roleStatements(dev.statelessTemplate, role);

    // Assess
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'kms:Encrypt',
        'kms:Decrypt',
        'secretsmanager:GetSecretValue',
      ]),
    );
    expect(actions.filter((a) => String(a).startsWith('dynamodb:')).sort()).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    const seal = statements.find((s) => s.Sid === 'SealWithContext');
    expect(seal?.Condition).toEqual({
      Null: {
        'kms:EncryptionContext:clientId': 'false',
        'kms:EncryptionContext:accountId': 'false',
        'kms:EncryptionContext:purpose': 'false',
      },
    });
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadConsoleClientId')?.Resource)).toContain(
      '-console-client-??????',
    );
    expect(statements.some((s) => s.Resource === '*')).toBe(false);
  });

  it('sets exactly the environment the console function validates at start', () => {
    // Prepare
    const env = (consoleFunction().properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    const plain = Object.fromEntries(
      Object.entries(env).map(([key, value]) => [key, typeof value === 'string' ? value : `resolved-${key}`]),
    );
    plain.COGNITO_USER_POOL_ID = 'eu-west-1_Abc123';
    plain.COGNITO_DOMAIN = 'https://followback-dev-123.auth.eu-west-1.amazoncognito.com';

    // Act
    const parsed = loadFunctionEnv(consoleEnvSchema, plain as NodeJS.ProcessEnv);

    // Assess
    expect(parsed.AGENCY_NAME).toBe(dev.config.agencyName);
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'COGNITO_USER_POOL_ID',
        'COGNITO_CLIENT_SECRET_ID',
        'COGNITO_DOMAIN',
        'VAULT_KEY_ID',
      ]),
    );
  });
});
