import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { LambdaFunctionName } from '../bundling.ts';
import type { DeployConfig } from '../config.ts';
import { FollowbackFunction, metricsNamespace } from '../constructs/followback-function.ts';
import { OperatorConsole } from '../constructs/operator-console.ts';
import { WorkQueue } from '../constructs/work-queue.ts';
import { type PartitionGrant, type TableAction, tableGrants } from '../table-grants.ts';

export interface StatelessStackProps extends StackProps {
  config: DeployConfig;
  table: dynamodb.ITable;
  vaultKey: kms.IKey;
  approvalSigningKey: secretsmanager.ISecret;
}

/**
 * Everything that can be replaced freely: functions, queues, schedules, the Function URL, the SES
 * configuration set, alarms and the dashboard.
 */
export class StatelessStack extends Stack {
  readonly tickDispatch: FollowbackFunction;
  readonly accountWorker: FollowbackFunction;
  readonly digestDispatch: FollowbackFunction;
  readonly digestWorker: FollowbackFunction;
  readonly approvalPage: FollowbackFunction;
  readonly operatorConsole: OperatorConsole;
  readonly accountQueue: WorkQueue;
  readonly digestQueue: WorkQueue;
  readonly scheduleDeadLetters: sqs.Queue;
  readonly approvalUrl: lambda.FunctionUrl;
  readonly alarmTopic: sns.Topic;
  readonly configurationSet: ses.ConfigurationSet;
  readonly #table: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    this.#table = props.table;
    const { config, table } = props;
    const tick = Duration.minutes(config.tickMinutes);
    const workerTimeout = Duration.seconds(config.worker.timeoutSeconds);
    const digestWorkerTimeout = Duration.minutes(5);

    // -- Queues -----------------------------------------------------------------------------------
    this.accountQueue = new WorkQueue(this, 'AccountWork', {
      consumerTimeout: workerTimeout,
      maxReceiveCount: config.worker.maxReceiveCount,
    });
    this.digestQueue = new WorkQueue(this, 'DigestWork', {
      consumerTimeout: digestWorkerTimeout,
      maxReceiveCount: config.worker.maxReceiveCount,
    });
    this.scheduleDeadLetters = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.scheduleDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: of the EventBridge Scheduler schedules and of the dispatch ' +
        "functions' failed asynchronous invocations. Scheduler and Lambda destinations reference it directly, " +
        'not through an SQS redrive policy, which is what the rule looks for.',
    });

    this.configurationSet = new ses.ConfigurationSet(this, 'Mail', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
    });

    // -- Functions --------------------------------------------------------------------------------
    const common = { TABLE_NAME: table.tableName };

    this.tickDispatch = new FollowbackFunction(this, 'TickDispatch', {
      name: 'tick-dispatch',
      description: 'Finds the accounts due and puts one message per account on the account queue',
      config,
      timeout: Duration.minutes(1),
      environment: {
        ...common,
        ACCOUNT_QUEUE_URL: this.accountQueue.queue.queueUrl,
        TICK_MINUTES: String(config.tickMinutes),
      },
    });
    this.#grantTable(this.tickDispatch, 'tick-dispatch');
    this.accountQueue.queue.grantSendMessages(this.tickDispatch.role);

    this.accountWorker = new FollowbackFunction(this, 'AccountWorker', {
      name: 'account-worker',
      description: 'One tick (observe, reconcile, act) for each account in the batch',
      config,
      timeout: workerTimeout,
      memorySize: config.worker.memoryMb,
      environment: {
        ...common,
        VAULT_KEY_ID: props.vaultKey.keyArn,
        X_API_BASE_URL: config.xApiBaseUrl,
        WORKER_TIME_MARGIN_MS: String(config.worker.timeMarginMs),
        X_APP_FOLLOWS_PER_DAY: String(config.caps.xAppFollowsPerDay),
        X_CLIENT_ID: config.xClientId,
        X_TOKEN_URL: config.xTokenUrl,
        ...(config.xClientSecretArn === undefined ? {} : { X_CLIENT_SECRET_ARN: config.xClientSecretArn }),
      },
    });
    this.#grantTable(this.accountWorker, 'account-worker');
    // Open the stored tokens, and seal the pair a refresh returns (X rotates refresh tokens: the new
    // pair is stored before it is used). Only with a tenant/account/purpose context: the key cannot be
    // used to open anything the vault did not seal, nor to seal anything without naming its owner.
    this.accountWorker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TenantCredentials',
        actions: ['kms:Decrypt', 'kms:Encrypt'],
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
    if (config.xClientSecretArn !== undefined) {
      // A confidential X app's secret: read by this function only, on its first token refresh.
      this.accountWorker.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadXClientSecret',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [config.xClientSecretArn],
        }),
      );
    }
    this.accountWorker.function.addEventSource(
      new SqsEventSource(this.accountQueue.queue, {
        batchSize: config.worker.batchSize,
        maxConcurrency: config.caps.workerMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.approvalPage = new FollowbackFunction(this, 'ApprovalPage', {
      name: 'approval-page',
      description: 'Approval page behind a Function URL: GET shows, POST acts, the signed token is the auth',
      config,
      timeout: Duration.seconds(10),
      reservedConcurrency: config.caps.approvalPageConcurrency,
      environment: {
        ...common,
        AGENCY_NAME: config.agencyName,
        APPROVAL_KEY_SECRET_ARN: props.approvalSigningKey.secretArn,
      },
    });
    this.#grantTable(this.approvalPage, 'approval-page');
    props.approvalSigningKey.grantRead(this.approvalPage.role);
    this.approvalUrl = this.approvalPage.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });
    new CfnOutput(this, 'ApprovalPageUrl', {
      value: this.approvalUrl.url,
      description: 'Where the links in the digest lead (the approval page)',
    });

    this.operatorConsole = new OperatorConsole(this, 'Console', {
      config,
      table,
      vaultKey: props.vaultKey,
      approvalSigningKey: props.approvalSigningKey,
      grantTable: (fn) => this.#grantTable(fn, 'console'),
    });

    this.digestDispatch = new FollowbackFunction(this, 'DigestDispatch', {
      name: 'digest-dispatch',
      description: 'Finds the clients whose local digest time has come and queues one message each',
      config,
      timeout: Duration.minutes(1),
      environment: {
        ...common,
        DIGEST_QUEUE_URL: this.digestQueue.queue.queueUrl,
        // The roll-up's recipient and sender, as the worker has them (both decide when it is due).
        AGENCY_NAME: config.agencyName,
        SENDER_ADDRESS: config.senderAddress,
        OPERATOR_EMAIL: config.operatorEmail,
      },
    });
    this.#grantTable(this.digestDispatch, 'digest-dispatch');
    this.digestQueue.queue.grantSendMessages(this.digestDispatch.role);

    this.digestWorker = new FollowbackFunction(this, 'DigestWorker', {
      name: 'digest-worker',
      description: "Builds and sends one client's weekly digest, once per period",
      config,
      timeout: digestWorkerTimeout,
      memorySize: 512,
      environment: {
        ...common,
        SENDER_ADDRESS: config.senderAddress,
        SES_CONFIGURATION_SET: this.configurationSet.configurationSetName,
        AGENCY_NAME: config.agencyName,
        OPERATOR_EMAIL: config.operatorEmail,
        APPROVAL_BASE_URL: this.approvalUrl.url,
        APPROVAL_KEY_SECRET_ARN: props.approvalSigningKey.secretArn,
      },
    });
    this.#grantTable(this.digestWorker, 'digest-worker');
    props.approvalSigningKey.grantRead(this.digestWorker.role);
    this.digestWorker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendDigestMail',
        actions: ['ses:SendEmail'],
        resources: [
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: config.senderDomain }),
          this.formatArn({ service: 'ses', resource: 'identity', resourceName: config.senderAddress }),
          this.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: this.configurationSet.configurationSetName,
          }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': config.senderAddress } },
      }),
    );
    this.digestWorker.function.addEventSource(
      new SqsEventSource(this.digestQueue.queue, {
        batchSize: 1,
        maxConcurrency: config.caps.digestMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    // -- Schedules --------------------------------------------------------------------------------
    for (const dispatch of [this.tickDispatch, this.digestDispatch]) {
      // Scheduler invokes asynchronously: a failed dispatch is retried twice by Lambda, within
      // one tick (a later tick supersedes it), then recorded in the schedules' dead-letter queue.
      dispatch.function.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: dispatch === this.tickDispatch ? tick : Duration.hours(1),
        onFailure: new SqsDestination(this.scheduleDeadLetters),
      });
    }
    this.#schedule('AccountTick', {
      description: `Account tick every ${config.tickMinutes} minutes`,
      expression: `rate(${config.tickMinutes} minutes)`,
      target: this.tickDispatch,
      maxEventAge: tick,
    });
    this.#schedule('DigestTick', {
      description: 'Digest tick at the top of every hour',
      expression: 'cron(0 * * * ? *)',
      target: this.digestDispatch,
      maxEventAge: Duration.hours(1),
    });

    // -- Alarms and dashboard ---------------------------------------------------------------------
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      enforceSSL: true,
      displayName: `followback ${config.stage} alarms`,
    });
    this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.operatorEmail));
    this.#alarms(config);
  }

  #grantTable(fn: FollowbackFunction, name: LambdaFunctionName): void {
    const { actions, indexes, partitions } = tableGrants[name];
    if (partitions !== undefined) {
      this.#grantPartitions(fn, actions, indexes, partitions);
      return;
    }
    iam.Grant.addToPrincipal({
      grantee: fn.role,
      actions: actions.map((action) => `dynamodb:${action}`),
      resourceArns: [this.#table.tableArn],
    });
    if (indexes.length > 0) {
      iam.Grant.addToPrincipal({
        grantee: fn.role,
        actions: ['dynamodb:Query'],
        resourceArns: indexes.map((index) => `${this.#table.tableArn}/index/${index}`),
      });
    }
  }

  /** The table actions of a function, each kind limited to its partitions (`dynamodb:LeadingKeys`). */
  #grantPartitions(
    fn: FollowbackFunction,
    actions: readonly TableAction[],
    indexes: readonly string[],
    partitions: PartitionGrant,
  ): void {
    const leadingKeys = (patterns: readonly string[]) => ({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] },
    });
    const granted = (wanted: readonly TableAction[]) => wanted.filter((a) => actions.includes(a));
    const statement = (
      sid: string,
      wanted: readonly TableAction[],
      resources: string[],
      conditions: Record<string, Record<string, unknown>>,
    ) => {
      const list = granted(wanted);
      if (list.length === 0 || resources.length === 0) return;
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid,
          actions: list.map((action) => `dynamodb:${action}`),
          resources,
          conditions,
        }),
      );
    };
    const table = this.#table.tableArn;
    statement('ReadOwnPartitions', ['GetItem', 'Query'], [table], leadingKeys(partitions.read));
    statement(
      'QueryOwnQueues',
      ['Query'],
      indexes.map((index) => `${table}/index/${index}`),
      leadingKeys(partitions.indexRead),
    );
    statement('WriteOwnPartitions', ['PutItem', 'UpdateItem'], [table], leadingKeys(partitions.write));
    if (partitions.registryUpdate !== undefined) {
      statement('SetRegistryFlags', ['UpdateItem'], [table], {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': [partitions.registryUpdate.partition],
          'dynamodb:Attributes': [...partitions.registryUpdate.attributes],
        },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] },
      });
    }
  }

  /**
   * An EventBridge Scheduler schedule that invokes a dispatch function: flexible window off, retry
   * policy, the schedules' dead-letter queue, and a role that may invoke that one function (its
   * unqualified ARN, no versions) and send to that one queue. The input carries the scheduled time,
   * so a retried delivery of the same tick dispatches the same message ids.
   */
  #schedule(
    id: string,
    options: {
      description: string;
      expression: string;
      target: FollowbackFunction;
      maxEventAge: Duration;
    },
  ): scheduler.CfnSchedule {
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `EventBridge Scheduler: ${options.description}`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [options.target.function.functionArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.scheduleDeadLetters.queueArn],
      }),
    );
    const schedule = new scheduler.CfnSchedule(this, id, {
      description: options.description,
      scheduleExpression: options.expression,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: options.target.function.functionArn,
        roleArn: role.roleArn,
        input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
        retryPolicy: {
          maximumRetryAttempts: 3,
          maximumEventAgeInSeconds: options.maxEventAge.toSeconds(),
        },
        deadLetterConfig: { arn: this.scheduleDeadLetters.queueArn },
      },
    });
    // The role's policy must exist before the schedule first fires (the role itself is referenced).
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy !== undefined) schedule.node.addDependency(policy);
    return schedule;
  }

  #alarms(config: DeployConfig): void {
    const action = new actions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      return created;
    };
    const fiveMinutes = Duration.minutes(5);

    const deadLetterQueues: [string, sqs.IQueue][] = [
      ['AccountWorkDlq', this.accountQueue.deadLetterQueue],
      ['DigestWorkDlq', this.digestQueue.deadLetterQueue],
      ['ScheduleDlq', this.scheduleDeadLetters],
    ];
    for (const [name, queue] of deadLetterQueues) {
      alarm(
        `${name}Depth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
        `${name}: messages in a dead-letter queue; work failed every retry`,
      );
    }

    const functions = [
      this.tickDispatch,
      this.accountWorker,
      this.digestDispatch,
      this.digestWorker,
      this.approvalPage,
    ];
    for (const fn of functions) {
      const id = fn.node.id;
      alarm(
        `${id}Errors`,
        fn.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        `${id}: invocation errors`,
      );
      alarm(
        `${id}Throttles`,
        fn.function.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
        `${id}: throttled invocations`,
      );
    }

    const workerMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: 'account-worker', stage: config.stage },
        period: Duration.minutes(config.tickMinutes),
        statistic,
      });
    const promisesAtRisk = workerMetric('PromisesAtRisk', 'Maximum');
    alarm(
      'PromisesAtRisk',
      promisesAtRisk,
      'Follow-backs forecast to miss their promise window under the caps (the backlog does not fit)',
    );
    const malformed = workerMetric('MalformedMessages', 'Sum');
    alarm('MalformedMessages', malformed, 'Account work messages that failed validation and were dropped');
    const digestMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: 'digest-worker', stage: config.stage },
        period: Duration.hours(1),
        statistic: 'Sum',
      });
    // One metric for every digest that did not go out as it should (each custom metric costs $0.30
    // a month): refused by the mailer, interrupted mid-send, impossible to build, or a malformed message.
    const digestsFailed = digestMetric('DigestsFailed');
    alarm(
      'DigestsFailed',
      digestsFailed,
      'Digests or roll-ups the mailer refused, interrupted mid-send, that could not be built, or whose work message was malformed (the log and the run item say which)',
    );

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations',
        left: functions.map((fn) => fn.function.metricInvocations({ label: fn.node.id })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors and throttles',
        left: functions.map((fn) => fn.function.metricErrors({ label: `${fn.node.id} errors` })),
        right: functions.map((fn) => fn.function.metricThrottles({ label: `${fn.node.id} throttles` })),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Duration (p95)',
        left: functions.map((fn) => fn.function.metricDuration({ label: fn.node.id, statistic: 'p95' })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues',
        left: [
          this.accountQueue.queue.metricApproximateNumberOfMessagesVisible({ label: 'account work' }),
          this.digestQueue.queue.metricApproximateNumberOfMessagesVisible({ label: 'digest work' }),
          this.accountQueue.queue.metricApproximateAgeOfOldestMessage({
            label: 'oldest account message (s)',
          }),
        ],
        right: deadLetterQueues.map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ label: name, statistic: 'Maximum' }),
        ),
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Promises, digests and input',
        left: [promisesAtRisk, digestsFailed],
        right: [malformed],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: this.node.children.filter(
          (child): child is cloudwatch.Alarm => child instanceof cloudwatch.Alarm,
        ),
        width: 12,
      }),
    );
  }
}
