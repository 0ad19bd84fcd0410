import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { aliasArgs, bundling, functionEntry, type LambdaFunctionName, projectRoot } from '../bundling.ts';
import type { DeployConfig } from '../config.ts';

export interface FollowbackFunctionProps {
  name: LambdaFunctionName;
  description: string;
  config: DeployConfig;
  timeout: Duration;
  memorySize?: number;
  /** Variables the function reads (validated by its env schema at start). */
  environment: Record<string, string>;
  /** Reserved concurrency: at most this many at once (and always this many available). */
  reservedConcurrency?: number | undefined;
}

/** Namespace of the functions' own metrics (Powertools EMF); `service` and `stage` are dimensions. */
export const metricsNamespace = 'Followback';

/**
 * One function: a NodejsFunction (arm64, Node 22, the shared bundling) with its own role and its own
 * log group. The role starts empty but for writing to that log group; callers grant the rest, so
 * each function's permissions are exactly what its stack says.
 */
export class FollowbackFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FollowbackFunctionProps) {
    super(scope, id);
    const { config } = props;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `followback ${props.name} (${config.stage})`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: `${projectRoot}${functionEntry(props.name)}`,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      role: this.role,
      logGroup: this.logGroup,
      tracing: config.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        STAGE: config.stage,
        LOG_LEVEL: config.stage === 'prod' ? 'info' : 'debug',
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        ...props.environment,
      },
      bundling: {
        minify: bundling.minify,
        sourceMap: bundling.sourceMap,
        sourcesContent: bundling.sourcesContent,
        target: bundling.target,
        format: OutputFormat.ESM,
        mainFields: [...bundling.mainFields],
        banner: bundling.banner,
        externalModules: [...bundling.externalModules],
        esbuildArgs: aliasArgs(),
        forceDockerBundling: bundling.forceDockerBundling,
      },
    });
    if (config.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level ' +
          'permissions (the X-Ray service authorization reference lists no resource types for them); every other ' +
          'statement of this role names its resources.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 (an LTS line in AWS support) is the runtime this code base targets, bundles for (esbuild ' +
        'target node22) and tests on; the move to a newer runtime is a deliberate change with its own test run, ' +
        'not something to pick up silently from the latest-runtime default.',
    });
  }
}
