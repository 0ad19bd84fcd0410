import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accountWorkerEnvSchema,
  approvalPageEnvSchema,
  digestDispatchEnvSchema,
  digestWorkerEnvSchema,
  loadFunctionEnv,
  tickDispatchEnvSchema,
} from '../../functions/lib/env.ts';
import { tableDefinition } from '../../shared/adapters/dynamo/table.ts';
import { parseApprovalKeys } from '../../shared/app/approval/keys.ts';
import { logicalId, resourcesOf, roleStatements, type SynthesizedApp, synthesize } from './support.ts';

let dev: SynthesizedApp;

beforeAll(() => {
  dev = synthesize();
});

const tableArn = { 'Fn::ImportValue': expect.stringContaining('FollowbackTableArn') };
const keyArn = { 'Fn::ImportValue': expect.stringContaining('FollowbackVaultKeyArn') };
const secretRef = { 'Fn::ImportValue': expect.stringContaining('FollowbackApprovalSigningKey') };
const arnOf = (prefix: string) => ({
  'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${prefix}[0-9A-F]{8}$`)), 'Arn'],
});
const logsOf = (fn: string) => ({
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Effect: 'Allow',
  Resource: arnOf(`${fn}Logs`),
});
const sendTo = (...queues: string[]) => ({
  Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
  Effect: 'Allow',
  Resource: queues.length === 1 ? arnOf(queues[0]!) : queues.map(arnOf),
});
const consume = (queue: string) => ({
  Action: [
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ReceiveMessage',
  ],
  Effect: 'Allow',
  Resource: arnOf(queue),
});
const dynamo = (...actions: string[]) => ({
  Action: actions.map((a) => `dynamodb:${a}`),
  Effect: 'Allow',
  Resource: tableArn,
});
const gsiArn = (index: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${index}`]] });
const queryIndex = (...indexes: string[]) => ({
  Action: 'dynamodb:Query',
  Effect: 'Allow',
  Resource: indexes.length === 1 ? gsiArn(indexes[0]!) : indexes.map(gsiArn),
});
const tenantCredentials = {
  Sid: 'TenantCredentials',
  Action: ['kms:Decrypt', 'kms:Encrypt'],
  Effect: 'Allow',
  Resource: keyArn,
  Condition: {
    Null: {
      'kms:EncryptionContext:clientId': 'false',
      'kms:EncryptionContext:accountId': 'false',
      'kms:EncryptionContext:purpose': 'false',
    },
  },
};
const readSecret = {
  Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
  Effect: 'Allow',
  Resource: secretRef,
};

function statementsOfRole(prefix: string): Record<string, unknown>[] {
  const template = dev.statelessTemplate;
  return roleStatements(template, logicalId(template, 'AWS::IAM::Role', prefix));
}

/** Properties of every resource of `type`, to assert on with vitest's matchers. */
function propertiesOf(type: string): Record<string, unknown>[] {
  return Object.values(resourcesOf(dev.statelessTemplate, type)).map((resource) => resource.Properties ?? {});
}

function functionProps(prefix: string): Record<string, unknown> {
  const template = dev.statelessTemplate;
  return resourcesOf(template, 'AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', prefix)]!
    .Properties!;
}

describe('stateful stack', () => {
  it('pins the logical ids of the table, the token key and the signing secret', () => {
    // Assess: a changed id would make CloudFormation replace (delete) the resource.
    const template = dev.statefulTemplate;
    expect(Object.keys(resourcesOf(template, 'AWS::DynamoDB::Table'))).toEqual(['FollowbackTable']);
    expect(Object.keys(resourcesOf(template, 'AWS::KMS::Key'))).toEqual(['FollowbackVaultKey']);
    expect(Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'))).toEqual([
      'FollowbackApprovalSigningKey',
    ]);
  });

  it('builds the table from the store’s table definition, with PITR, deletion protection and TTL', () => {
    const table = resourcesOf(dev.statefulTemplate, 'AWS::DynamoDB::Table').FollowbackTable!;

    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: tableDefinition.billingMode,
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey.name, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: tableDefinition.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projectionType },
      })),
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('generates the approval signing key in the format the functions parse', () => {
    // Prepare: the generator's settings, and a value of that shape (letters and digits only)
    const secret = resourcesOf(dev.statefulTemplate, 'AWS::SecretsManager::Secret')
      .FollowbackApprovalSigningKey!;
    const generate = secret.Properties?.GenerateSecretString as Record<string, unknown>;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const value = Array.from(
      { length: generate.PasswordLength as number },
      (_, i) => alphabet[(i * 7) % alphabet.length],
    ).join('');

    // Act
    const keys = parseApprovalKeys(value, 'approval signing key secret');

    // Assess: base64 of at least 32 bytes, as APPROVAL_SIGNING_KEY
    expect(generate).toMatchObject({ ExcludePunctuation: true, IncludeSpace: false });
    expect(keys).toHaveLength(1);
    expect(keys[0]!.length).toBeGreaterThanOrEqual(32);
  });

  it('rotates the token key and retains it', () => {
    dev.statefulTemplate.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true, PendingWindowInDays: 30 }),
    });
  });
});

describe('functions', () => {
  it.each(['TickDispatch', 'AccountWorker', 'DigestDispatch', 'DigestWorker', 'ApprovalPage'])(
    '%s runs Node 22 on arm64 with its own role and log group',
    (name) => {
      // Act
      const props = functionProps(`${name}Function`);

      // Assess
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Role: arnOf(`${name}Role`),
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(new RegExp(`^${name}Logs`)) } },
      });
      expect((props.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: expect.any(String),
        STAGE: 'dev',
        TABLE_NAME: { 'Fn::ImportValue': expect.stringContaining('FollowbackTable') },
      });
    },
  );

  it.each([
    ['TickDispatch', tickDispatchEnvSchema],
    ['AccountWorker', accountWorkerEnvSchema],
    ['DigestDispatch', digestDispatchEnvSchema],
    ['DigestWorker', digestWorkerEnvSchema],
    ['ApprovalPage', approvalPageEnvSchema],
  ] as const)('%s gets an environment its schema accepts', (name, schema) => {
    // Prepare: deploy-time values (references) stand in as plausible strings.
    const variables = (functionProps(`${name}Function`).Environment as { Variables: Record<string, unknown> })
      .Variables;
    const resolved = Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [
        key,
        typeof value === 'string' ? value : key.endsWith('_URL') ? 'https://resolved.example/x' : 'resolved',
      ]),
    );

    // Act
    const parsing = () => loadFunctionEnv(schema, resolved);

    // Assess
    expect(parsing).not.toThrow();
  });

  it('gives the account worker the X app’s client id and token endpoint, and never a client secret', () => {
    // Act
    const variables = (
      functionProps('AccountWorkerFunction').Environment as { Variables: Record<string, unknown> }
    ).Variables;

    // Assess
    expect(variables).toMatchObject({
      X_CLIENT_ID: dev.config.xClientId,
      X_TOKEN_URL: 'https://api.x.com/2/oauth2/token',
    });
    expect(Object.keys(variables)).not.toContain('X_CLIENT_SECRET');
    expect(Object.keys(variables)).not.toContain('X_CLIENT_SECRET_ARN');
  });

  it('lets only the account worker read a confidential X app’s secret, by its ARN', () => {
    // Prepare
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:followback/x-client-AbC123';
    const confidential = synthesize({ config: { xClientSecretArn: arn } });
    const template = confidential.statelessTemplate;
    const statementsOf = (role: string) =>
      roleStatements(template, logicalId(template, 'AWS::IAM::Role', role));
    const worker = resourcesOf(template, 'AWS::Lambda::Function')[
      logicalId(template, 'AWS::Lambda::Function', 'AccountWorkerFunction')
    ]!;

    // Assess
    expect(statementsOf('AccountWorkerRole')).toContainEqual({
      Sid: 'ReadXClientSecret',
      Action: 'secretsmanager:GetSecretValue',
      Effect: 'Allow',
      Resource: arn,
    });
    expect(
      (worker.Properties!.Environment as { Variables: Record<string, unknown> }).Variables,
    ).toMatchObject({
      X_CLIENT_SECRET_ARN: arn,
    });
    for (const role of ['TickDispatchRole', 'DigestDispatchRole', 'DigestWorkerRole', 'ApprovalPageRole']) {
      expect(JSON.stringify(statementsOf(role))).not.toContain(arn);
    }
  });

  it('keeps logs for the configured retention', () => {
    const groups = Object.values(resourcesOf(dev.statelessTemplate, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(6);
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(dev.config.logRetentionDays);
  });

  it('bounds the public approval function with reserved concurrency, and only it', () => {
    // Assess
    expect(functionProps('ApprovalPage').ReservedConcurrentExecutions).toBe(
      dev.config.caps.approvalPageConcurrency,
    );
    for (const fn of ['TickDispatch', 'AccountWorker', 'DigestDispatch', 'DigestWorker']) {
      expect(functionProps(fn).ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('keeps the approval function away from the sealed credentials and the agency partitions', () => {
    // Prepare: every pattern a DynamoDB statement of its role allows, and none without a condition
    const statements = statementsOfRole('ApprovalPage').filter((st) =>
      JSON.stringify(st.Action).includes('dynamodb:'),
    );
    const patterns = statements.flatMap((st) => {
      const condition = st.Condition as Record<string, Record<string, string[]>> | undefined;
      expect(condition).toBeDefined();
      return Object.values(condition!).flatMap((c) => c['dynamodb:LeadingKeys'] ?? []);
    });
    const matches = (pk: string) =>
      patterns.some((p) => new RegExp(`^${p.replace(/[#]/g, '\\#').replace(/\*/g, '.*')}$`).test(pk));

    // Assess
    expect(matches('ACCT#acme#x-acme')).toBe(true);
    expect(matches('CLIENT#acme')).toBe(true);
    expect(matches('CRED#acme#x-acme')).toBe(false);
    expect(matches('AGENCY')).toBe(false);
    expect(matches('APP')).toBe(false);
  });

  it('serves the approval page through a Function URL without IAM auth (the signed token is the auth)', () => {
    expect(propertiesOf('AWS::Lambda::Url')).toEqual([
      expect.objectContaining({ AuthType: 'NONE', TargetFunctionArn: arnOf('ApprovalPageFunction') }),
      // The console's (Cognito's ID token is its auth): test/infra/console.test.ts.
      expect.objectContaining({ AuthType: 'NONE', TargetFunctionArn: arnOf('ConsoleFunction') }),
    ]);
  });
});

describe('least privilege: each role holds exactly what its function uses', () => {
  it.each([
    [
      'TickDispatch',
      [logsOf('TickDispatch'), dynamo('GetItem', 'Query'), sendTo('AccountWorkQueue', 'ScheduleDeadLetters')],
    ],
    [
      'AccountWorker',
      [
        logsOf('AccountWorker'),
        dynamo('BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'),
        queryIndex('gsi1', 'gsi2'),
        tenantCredentials,
        consume('AccountWorkQueue'),
      ],
    ],
    [
      'DigestDispatch',
      [
        logsOf('DigestDispatch'),
        dynamo('GetItem', 'Query'),
        sendTo('DigestWorkQueue', 'ScheduleDeadLetters'),
      ],
    ],
    [
      'DigestWorker',
      [
        logsOf('DigestWorker'),
        dynamo('GetItem', 'PutItem', 'Query'),
        queryIndex('gsi1'),
        readSecret,
        {
          Sid: 'SendDigestMail',
          Action: 'ses:SendEmail',
          Effect: 'Allow',
          Condition: { StringEquals: { 'ses:FromAddress': 'digest@dev.followback.example.com' } },
          Resource: [
            expect.objectContaining({ 'Fn::Join': ['', expect.arrayContaining([':configuration-set/'])] }),
            expect.objectContaining({
              'Fn::Join': ['', expect.arrayContaining([':identity/dev.followback.example.com'])],
            }),
            expect.objectContaining({
              'Fn::Join': ['', expect.arrayContaining([':identity/digest@dev.followback.example.com'])],
            }),
          ],
        },
        consume('DigestWorkQueue'),
      ],
    ],
    [
      'ApprovalPage',
      [
        logsOf('ApprovalPage'),
        {
          Sid: 'ReadOwnPartitions',
          Action: ['dynamodb:GetItem', 'dynamodb:Query'],
          Effect: 'Allow',
          Resource: tableArn,
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REGISTRY', 'ACCT#*', 'CLIENT#*'] },
          },
        },
        {
          Sid: 'QueryOwnQueues',
          Action: 'dynamodb:Query',
          Effect: 'Allow',
          Resource: gsiArn('gsi1'),
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TASKQ#*'] } },
        },
        {
          Sid: 'WriteOwnPartitions',
          Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Effect: 'Allow',
          Resource: tableArn,
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCT#*', 'CLIENT#*'] } },
        },
        {
          Sid: 'SetRegistryFlags',
          Action: 'dynamodb:UpdateItem',
          Effect: 'Allow',
          Resource: tableArn,
          Condition: {
            'ForAllValues:StringEquals': {
              'dynamodb:LeadingKeys': ['REGISTRY'],
              'dynamodb:Attributes': ['pk', 'sk', 'digestOptOut', 'digestOptOutAt'],
            },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] },
          },
        },
        readSecret,
      ],
    ],
    [
      'AccountTick',
      [
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: arnOf('TickDispatchFunction') },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: arnOf('ScheduleDeadLetters') },
      ],
    ],
    [
      'DigestTick',
      [
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: arnOf('DigestDispatchFunction') },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: arnOf('ScheduleDeadLetters') },
      ],
    ],
  ])('%s role', (name, expected) => {
    // Act
    const statements = statementsOfRole(`${name}Role`);

    // Assess
    expect(statements).toHaveLength(expected.length);
    expect(statements).toEqual(expect.arrayContaining(expected.map((s) => expect.objectContaining(s))));
    for (const statement of statements) expect(JSON.stringify(statement.Resource)).not.toContain('*');
  });

  it('gives no role a managed policy', () => {
    for (const role of Object.values(resourcesOf(dev.statelessTemplate, 'AWS::IAM::Role'))) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets only EventBridge Scheduler of this account assume the schedules’ roles', () => {
    for (const name of ['AccountTickRole', 'DigestTickRole']) {
      const role = resourcesOf(dev.statelessTemplate, 'AWS::IAM::Role')[
        logicalId(dev.statelessTemplate, 'AWS::IAM::Role', name)
      ]!;
      expect(role.Properties?.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      });
    }
  });
});

describe('queues and schedules', () => {
  it('gives the account queue a visibility timeout of at least six times the worker timeout', () => {
    // Prepare
    const worker = functionProps('AccountWorkerFunction');
    const queues = resourcesOf(dev.statelessTemplate, 'AWS::SQS::Queue');

    // Act
    const queue = queues[logicalId(dev.statelessTemplate, 'AWS::SQS::Queue', 'AccountWorkQueue')]!;

    // Assess
    expect(queue.Properties?.VisibilityTimeout as number).toBeGreaterThanOrEqual(
      6 * (worker.Timeout as number),
    );
    expect(queue.Properties?.RedrivePolicy).toEqual({
      deadLetterTargetArn: arnOf('AccountWorkDeadLetters'),
      maxReceiveCount: dev.config.worker.maxReceiveCount,
    });
  });

  it('encrypts every queue and refuses plain HTTP', () => {
    const queues = resourcesOf(dev.statelessTemplate, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(5);
    for (const queue of Object.values(queues)) expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
    expect(Object.keys(resourcesOf(dev.statelessTemplate, 'AWS::SQS::QueuePolicy'))).toHaveLength(5);
  });

  it('feeds the account worker with partial batch failures and bounded concurrency', () => {
    expect(propertiesOf('AWS::Lambda::EventSourceMapping')).toContainEqual(
      expect.objectContaining({
        FunctionName: { Ref: expect.stringMatching(/^AccountWorkerFunction/) },
        EventSourceArn: arnOf('AccountWorkQueue'),
        BatchSize: dev.config.worker.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: dev.config.caps.workerMaxConcurrency },
      }),
    );
  });

  it.each([
    ['TickDispatchFunction', 'rate(15 minutes)', 900],
    ['DigestDispatchFunction', 'cron(0 * * * ? *)', 3600],
  ])(
    'schedules %s at %s with a retry policy, a dead-letter queue and no flexible window',
    (target, expression, age) => {
      expect(propertiesOf('AWS::Scheduler::Schedule')).toContainEqual(
        expect.objectContaining({
          ScheduleExpression: expression,
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'ENABLED',
          Target: {
            Arn: arnOf(target),
            RoleArn: expect.any(Object),
            Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: age },
            DeadLetterConfig: { Arn: arnOf('ScheduleDeadLetters') },
          },
        }),
      );
    },
  );

  it('sends failed asynchronous dispatches to the schedules’ dead-letter queue', () => {
    const configs = Object.values(resourcesOf(dev.statelessTemplate, 'AWS::Lambda::EventInvokeConfig'));
    expect(configs).toHaveLength(2);
    for (const config of configs) {
      expect(config.Properties).toMatchObject({
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: arnOf('ScheduleDeadLetters') } },
      });
    }
  });
});

describe('mail and monitoring', () => {
  it('defines an SES configuration set that requires TLS and suppresses bounces and complaints', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::SES::ConfigurationSet', {
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      ReputationOptions: { ReputationMetricsEnabled: true },
    });
  });

  it('alarms on every dead-letter queue, on errors and throttles of every function, and on promises at risk', () => {
    // Prepare
    const alarms = Object.values(resourcesOf(dev.statelessTemplate, 'AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties!,
    );
    const named = (metricName: string) => alarms.filter((alarm) => alarm.MetricName === metricName);

    // Assess
    const dlqAlarms = named('ApproximateNumberOfMessagesVisible');
    expect(dlqAlarms).toHaveLength(3);
    for (const queue of ['AccountWorkDeadLetters', 'DigestWorkDeadLetters', 'ScheduleDeadLetters']) {
      expect(dlqAlarms.filter((alarm) => JSON.stringify(alarm.Dimensions).includes(queue))).toHaveLength(1);
    }
    expect(named('Errors')).toHaveLength(5);
    expect(named('Throttles')).toHaveLength(5);
    expect(named('PromisesAtRisk')).toEqual([
      expect.objectContaining({
        Namespace: 'Followback',
        Dimensions: expect.arrayContaining([{ Name: 'service', Value: 'account-worker' }]),
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    ]);
    for (const [metricName, service] of [
      ['MalformedMessages', 'account-worker'],
      ['DigestsFailed', 'digest-worker'],
    ] as const) {
      expect(named(metricName)).toEqual([
        expect.objectContaining({
          Namespace: 'Followback',
          Dimensions: expect.arrayContaining([{ Name: 'service', Value: service }]),
        }),
      ]);
    }
    for (const alarm of alarms)
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
  });

  it('mails the alarms to the operator and draws a dashboard', () => {
    dev.statelessTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: dev.config.operatorEmail,
    });
    dev.statelessTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
