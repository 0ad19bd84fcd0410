import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { tableDefinition } from '../../shared/adapters/dynamo/table.ts';
import type { DeployConfig } from '../config.ts';

/**
 * Logical ids of the stateful resources, pinned: a refactor that moved or renamed a construct would
 * otherwise give CloudFormation a new id, and it would replace (delete) the table, the key or the
 * secret. A test asserts these ids.
 */
export const statefulLogicalIds = {
  table: 'FollowbackTable',
  vaultKey: 'FollowbackVaultKey',
  approvalKey: 'FollowbackApprovalSigningKey',
} as const;

export interface StatefulStackProps extends StackProps {
  config: DeployConfig;
}

const attributeTypes: Record<string, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

function attribute(key: { name: string; type: string }): dynamodb.Attribute {
  const type = attributeTypes[key.type];
  if (type === undefined)
    throw new Error(`tableDefinition: unknown attribute type ${key.type} of ${key.name}`);
  return { name: key.name, type };
}

/**
 * What must outlive deployments: the one DynamoDB table (built from `tableDefinition`, the layout the
 * store uses), the KMS key that seals tokens, and the approval links' signing key.
 */
export class StatefulStack extends Stack {
  readonly table: dynamodb.Table;
  readonly vaultKey: kms.Key;
  readonly approvalSigningKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const d = tableDefinition;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(d.partitionKey),
      sortKey: attribute(d.sortKey),
      billingMode:
        d.billingMode === 'PAY_PER_REQUEST'
          ? dynamodb.BillingMode.PAY_PER_REQUEST
          : dynamodb.BillingMode.PROVISIONED,
      timeToLiveAttribute: d.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.protectData,
      removalPolicy,
    });
    for (const index of d.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    (this.table.node.defaultChild as dynamodb.CfnTable).overrideLogicalId(statefulLogicalIds.table);

    this.vaultKey = new kms.Key(this, 'VaultKey', {
      description: `followback ${config.stage}: seals connected accounts' tokens (context: clientId, accountId, purpose)`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy,
    });
    (this.vaultKey.node.defaultChild as kms.CfnKey).overrideLogicalId(statefulLogicalIds.vaultKey);

    this.approvalSigningKey = new secretsmanager.Secret(this, 'ApprovalSigningKey', {
      description: `followback ${config.stage}: HMAC key that signs approval and unsubscribe links`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    (this.approvalSigningKey.node.defaultChild as secretsmanager.CfnSecret).overrideLogicalId(
      statefulLogicalIds.approvalKey,
    );
    Validations.of(this.approvalSigningKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is the HMAC key of approval and unsubscribe links already sent by mail (valid up to 180 days); ' +
        'automatic rotation would void them. It is rotated by hand: the token module verifies with several keys, ' +
        'so a new key is added first and the old one removed after the links expire.',
    });
    // What the followback CLI needs to work on the deployed table (TABLE_NAME, VAULT_KEY_ID).
    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'TABLE_NAME for the followback CLI',
    });
    new CfnOutput(this, 'VaultKeyArn', {
      value: this.vaultKey.keyArn,
      description: 'VAULT_KEY_ID for the followback CLI',
    });
  }
}
