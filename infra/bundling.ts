import { fileURLToPath } from 'node:url';

/**
 * The Lambda functions and how each is bundled, in one place: the stack's NodejsFunction and
 * `npm run bench -- lambda` both read this, so the bench measures exactly what is deployed.
 * Local esbuild (no Docker), ESM, minified, linked source maps, the AWS SDK v3 bundled (not the
 * runtime's copy: a pinned, tree-shaken SDK), Node 22 target.
 */

/** Repository root (the parent of infra/). */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export const lambdaFunctionNames = [
  'tick-dispatch',
  'account-worker',
  'digest-dispatch',
  'digest-worker',
  'approval-page',
  'console',
] as const;
export type LambdaFunctionName = (typeof lambdaFunctionNames)[number];

/** Entry file of each function, relative to the project root. */
export function functionEntry(name: LambdaFunctionName): string {
  return `functions/${name}.ts`;
}

/** Node 22 on arm64 (the stack's runtime); esbuild's target follows it. */
export const nodeTarget = 'node22';

/**
 * Node ESM has no `require`; some bundled CommonJS dependencies call it for Node built-ins. The
 * banner gives the bundle one, as the CDK guide suggests for ESM output.
 */
export const esmRequireBanner =
  "import { createRequire as __followbackCreateRequire } from 'node:module'; const require = __followbackCreateRequire(import.meta.url);";

/** The options both sides share (names as in the CDK's BundlingOptions). */
export const bundling = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: nodeTarget,
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  /** Nothing external: the AWS SDK is bundled too. */
  externalModules: [] as string[],
  /**
   * Modules replaced in the bundles: the SDK's default credential chain by its first link, the
   * environment's credentials, which is where Lambda puts the role's (functions/lib/lambda-credentials.ts).
   */
  alias: {
    '@aws-sdk/credential-provider-node': `${projectRoot}functions/lib/lambda-credentials.ts`,
  } as Record<string, string>,
  forceDockerBundling: false,
} as const;

/** `bundling.alias` as esbuild command-line arguments (the CDK's `esbuildArgs`). */
export function aliasArgs(): Record<string, string> {
  return Object.fromEntries(Object.entries(bundling.alias).map(([from, to]) => [`--alias:${from}`, to]));
}

/**
 * The same build as esbuild API options, as NodejsFunction runs it (its command line:
 * `--bundle --platform=node --target --format --outfile --minify --sourcemap --sources-content=false
 * --banner:js --main-fields --alias`).
 */
export function esbuildOptionsFor(name: LambdaFunctionName, outfile: string) {
  return {
    entryPoints: [`${projectRoot}${functionEntry(name)}`],
    bundle: true,
    platform: 'node' as const,
    target: bundling.target,
    format: bundling.format,
    outfile,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    external: [...bundling.externalModules],
    alias: { ...bundling.alias },
    banner: { js: bundling.banner },
    mainFields: [...bundling.mainFields],
    logLevel: 'warning' as const,
  };
}
