import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type DeployConfig, resolveDeployConfig } from '../../infra/config.ts';
import {
  addFollowbackStacks,
  createFollowbackApp,
  type FollowbackStacks,
} from '../../infra/followback-app.ts';

export interface SynthesizedApp extends FollowbackStacks {
  app: App;
  config: DeployConfig;
  outdir: string;
  stateful: FollowbackStacks['stateful'];
  stateless: FollowbackStacks['stateless'];
  statefulTemplate: Template;
  statelessTemplate: Template;
}

export interface SynthOptions {
  stage?: 'dev' | 'prod';
  config?: Record<string, unknown>;
  /** Bundle the functions with esbuild as `cdk synth` does (slower); default: skip bundling. */
  bundle?: boolean;
  /** Where the cloud assembly goes; default: a new temporary directory. */
  outdir?: string;
}

export function temporaryOutdir(): string {
  return mkdtempSync(join(tmpdir(), 'followback-cdk-'));
}

/** What a prod deployment must give (prod has no default X client id); tests give this one. */
export const PROD_REQUIRED = { xClientId: 'test-prod-x-client-id' } as const;

/** The followback app as `cdk synth` builds it, synthesized into a temporary directory. */
export function synthesize(options: SynthOptions = {}): SynthesizedApp {
  const stage = options.stage ?? 'dev';
  const config = resolveDeployConfig({
    stage,
    config: stage === 'prod' ? { ...PROD_REQUIRED, ...options.config } : options.config,
  });
  const outdir = options.outdir ?? temporaryOutdir();
  // An empty bundling-stacks list makes NodejsFunction skip esbuild (the templates do not change).
  const app = createFollowbackApp({
    outdir,
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stacks = addFollowbackStacks(app, config);
  app.synth();
  return {
    app,
    config,
    outdir,
    ...stacks,
    statefulTemplate: Template.fromStack(stacks.stateful),
    statelessTemplate: Template.fromStack(stacks.stateless),
  };
}

export interface ValidationViolation {
  ruleName: string;
  constructPaths: string[];
}

/** Violations in the cloud assembly's validation report (an empty list when all is clean). */
export function reportedViolations(outdir: string): ValidationViolation[] {
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      ruleName: violation.ruleName,
      constructPaths: violation.violatingConstructs.map((c) => c.constructPath),
    })),
  );
}

type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>
>;

export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The logical id of the only resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(resourcesOf(template, type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** All statements of the IAM policies attached to the role with logical id `roleId`. */
export function roleStatements(template: Template, roleId: string): Record<string, unknown>[] {
  const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((policy) =>
    ((policy.Properties?.Roles as unknown[]) ?? []).some(
      (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
    ),
  );
  return policies.flatMap((policy) => {
    const document = policy.Properties?.PolicyDocument as
      | { Statement: Record<string, unknown>[] }
      | undefined;
    return document?.Statement ?? [];
  });
}
