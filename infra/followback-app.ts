import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeployConfig } from './config.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';

/**
 * Feature flags and settings of the app, in code so that tests build the same app as `cdk synth`.
 * Cross-stack references are strong on purpose: the stateful stack cannot be deleted while the
 * stateless one uses its table, key or secret.
 */
export const followbackContext = {
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-iam:standardizedServicePrincipals': true,
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
  '@aws-cdk/aws-sqs:dlqEncryption': true,
  '@aws-cdk/core:validationReportJson': true,
} as const;

/** An App with followback's context; `props.context` (e.g. from a test) goes on top. */
export function createFollowbackApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...followbackContext, ...props.context } });
}

export interface FollowbackStacks {
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/** Stack names of a stage, e.g. `Followback-dev-Stateful`. */
export function stackNames(config: DeployConfig): { stateful: string; stateless: string } {
  return {
    stateful: `Followback-${config.stage}-Stateful`,
    stateless: `Followback-${config.stage}-Stateless`,
  };
}

/**
 * Adds followback's two stacks for a validated config to the app, with cdk-nag's AWS Solutions
 * checks as a validation plugin: any unacknowledged finding fails synthesis.
 */
export function addFollowbackStacks(app: App, config: DeployConfig): FollowbackStacks {
  const env = { region: config.region, ...(config.account === undefined ? {} : { account: config.account }) };
  const names = stackNames(config);
  const stateful = new StatefulStack(app, names.stateful, {
    config,
    env,
    description: `followback ${config.stage}: table, token key, approval signing key (retained)`,
    terminationProtection: config.protectData,
  });
  const stateless = new StatelessStack(app, names.stateless, {
    config,
    env,
    description: `followback ${config.stage}: functions, queues, schedules, alarms`,
    // aws-cdk-lib declares `tableStreamArn: string | undefined` on Table (and `secretFullArn` on
    // Secret) where ITable and ISecret say `?: string`, which exactOptionalPropertyTypes tells apart.
    table: stateful.table as ITable,
    vaultKey: stateful.vaultKey,
    approvalSigningKey: stateful.approvalSigningKey as ISecret,
  });
  // Dashboards are left untagged: cfn-lint's resource schema does not know their Tags yet (E3002).
  const excludeResourceTypes = ['AWS::CloudWatch::Dashboard'];
  for (const stack of [stateful, stateless]) {
    Tags.of(stack).add('app', 'followback', { excludeResourceTypes });
    Tags.of(stack).add('stage', config.stage, { excludeResourceTypes });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stateful, stateless };
}
