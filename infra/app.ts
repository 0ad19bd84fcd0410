#!/usr/bin/env node
/**
 * The CDK app entry: the only place that reads context. `-c stage=prod` picks a stage,
 * `-c config='{"senderDomain":"…"}'` overrides fields; the result is validated once, here, and an
 * invalid value stops synthesis with an error naming the field.
 */
import { ConfigError } from '../shared/domain/errors.ts';
import { resolveDeployConfig } from './config.ts';
import { addFollowbackStacks, createFollowbackApp } from './followback-app.ts';

const app = createFollowbackApp();
let config: ReturnType<typeof resolveDeployConfig>;
try {
  config = resolveDeployConfig({
    stage: app.node.tryGetContext('stage'),
    config: app.node.tryGetContext('config'),
  });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
addFollowbackStacks(app, config);
app.synth();
