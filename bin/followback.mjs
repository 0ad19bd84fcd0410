#!/usr/bin/env node
// The `followback` command. Runs the TypeScript sources through tsx so a checkout needs no build step.
import { register } from 'tsx/esm/api';

// Local runs may use Node 20 (Lambda runs 22); the SDK's notice about that is noise on a CLI.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
await import('../cli/main.ts');
