import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.ts';
import { FollowbackFunction } from './followback-function.ts';

export interface OperatorConsoleProps {
  config: DeployConfig;
  table: dynamodb.ITable;
  vaultKey: kms.IKey;
  approvalSigningKey: secretsmanager.ISecret;
  /** Grants the function its table actions (tableGrants['console']). */
  grantTable(fn: FollowbackFunction): void;
}

/** Most console invocations at once: a flood of requests waits here instead of taking the workers' concurrency. */
export const CONSOLE_RESERVED_CONCURRENCY = 5;

/**
 * The operator console on AWS: an Amazon Cognito user pool (no self sign-up; the operator's email is
 * its first user, invited by email; TOTP MFA required; managed login on a Cognito domain), a public
 * app client for the Authorization Code flow with PKCE whose callback is the console's Function
 * URL, and the console function behind that Function URL with a bounded reserved concurrency.
 *
 * The app client names the Function URL and the function needs the client's id: to avoid a cycle in
 * the template, the id reaches the function through a secret with a fixed name, read at cold start.
 */
export class OperatorConsole extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  readonly function: FollowbackFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: OperatorConsoleProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    this.userPool = new cognito.UserPool(this, 'Operators', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: config.protectData,
      removalPolicy: config.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'Threat protection needs the Plus feature plan (priced per user); the pool has one or a few operators, ' +
        'no self sign-up, and TOTP MFA required, which is the protection that matters at this size.',
    });
    new cognito.CfnUserPoolUser(this, 'Operator', {
      userPoolId: this.userPool.userPoolId,
      username: config.operatorEmail,
      userAttributes: [
        { name: 'email', value: config.operatorEmail },
        { name: 'email_verified', value: 'true' },
      ],
      desiredDeliveryMediums: ['EMAIL'],
    });
    this.domain = this.userPool.addDomain('Login', {
      cognitoDomain: { domainPrefix: Fn.join('-', ['followback', config.stage, Aws.ACCOUNT_ID]) },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });

    this.function = new FollowbackFunction(this, 'Function', {
      name: 'console',
      description: 'Operator console, client invite pages and the OAuth callback behind a Function URL',
      config,
      timeout: Duration.seconds(29),
      memorySize: 512,
      environment: {
        TABLE_NAME: props.table.tableName,
        AGENCY_NAME: config.agencyName,
        APPROVAL_KEY_SECRET_ARN: props.approvalSigningKey.secretArn,
        VAULT_KEY_ID: props.vaultKey.keyArn,
        X_API_BASE_URL: config.xApiBaseUrl,
        X_CLIENT_ID: config.xClientId,
        ...(config.xClientSecretArn === undefined ? {} : { X_CLIENT_SECRET_ARN: config.xClientSecretArn }),
        COGNITO_USER_POOL_ID: this.userPool.userPoolId,
        COGNITO_DOMAIN: `https://${this.domain.domainName}.auth.${stack.region}.amazoncognito.com`,
        COGNITO_CLIENT_SECRET_ID: this.#clientSecretName(),
      },
    });
    (this.function.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions =
      CONSOLE_RESERVED_CONCURRENCY;
    props.grantTable(this.function);
    props.approvalSigningKey.grantRead(this.function.role);
    // Seal and open credentials and waiting grants, only with a tenant/account/purpose context.
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SealWithContext',
        actions: ['kms:Encrypt', 'kms:Decrypt'],
        resources: [props.vaultKey.keyArn],
        conditions: {
          Null: {
            'kms:EncryptionContext:clientId': 'false',
            'kms:EncryptionContext:accountId': 'false',
            'kms:EncryptionContext:purpose': 'false',
          },
        },
      }),
    );
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadConsoleClientId',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [`${this.#clientSecretArn()}-??????`],
      }),
    );
    if (config.xClientSecretArn !== undefined) {
      this.function.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadXClientSecret',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [config.xClientSecretArn],
        }),
      );
    }

    this.url = this.function.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });
    this.client = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [Fn.join('', [this.url.url, 'console/auth'])],
        logoutUrls: [Fn.join('', [this.url.url, 'console'])],
      },
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(8),
      accessTokenValidity: Duration.hours(8),
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    });
    new cognito.CfnManagedLoginBranding(this, 'LoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    const clientIdSecret = new secretsmanager.Secret(this, 'ClientId', {
      secretName: this.#clientSecretName(),
      description: 'The console app client id (not a secret: kept here to break a template cycle)',
      secretStringValue: SecretValue.unsafePlainText(this.client.userPoolClientId),
    });
    Validations.of(clientIdSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'It holds the public id of the Cognito app client, not a credential; there is nothing to rotate. A secret ' +
        'only carries the id to the function without a dependency cycle (client -> Function URL -> function).',
    });

    new CfnOutput(stack, 'ConsoleUrl', {
      value: `${this.url.url}console`,
      description: 'The operator console',
    });
    new CfnOutput(stack, 'ConsoleUserPoolId', {
      value: this.userPool.userPoolId,
      description: 'Operators (Cognito)',
    });
  }

  #clientSecretName(): string {
    return `followback-${Aws.STACK_NAME}-console-client`;
  }

  #clientSecretArn(): string {
    return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${this.#clientSecretName()}`;
  }
}
