/**
 * `npm run bench -- lambda`: each Lambda function bundled exactly as the stack bundles it (the
 * options come from infra/bundling.ts), then
 * - bundle size: the minified ESM file with the AWS SDK inside (source map not counted), and its
 *   deflated size (about what the deployment zip holds);
 * - module initialisation: a fresh `node` process imports the bundle, with the environment the
 *   function reads at start set to dummy values and NODE_OPTIONS as the stack sets it; the time from
 *   before `import()` to its settling, median of 10 processes. No network is touched: clients are
 *   only constructed at init.
 * With `--explain`, also each bundle's biggest parts (npm packages, project folders) from esbuild's
 * metafile, to see what to cut.
 * Targets (issue 14): at most 400 KB per bundle, 700 KB for the account worker (it carries the three
 * networks' clients), at most 150 ms per init (on this machine).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  bundling,
  esbuildOptionsFor,
  type LambdaFunctionName,
  lambdaFunctionNames,
} from '../infra/bundling.ts';
import { type BenchFigures, type BenchOptions, met, quantile, round, show, table } from './support/bench.ts';
import { type BundlePart, bundleParts } from './support/bundle-inputs.ts';

const run$ = promisify(execFile);

export const BUNDLE_TARGET_KB = 400;
/** Per function where it differs from BUNDLE_TARGET_KB. */
export const BUNDLE_TARGETS_KB: Partial<Record<LambdaFunctionName, number>> = { 'account-worker': 700 };
export const INIT_TARGET_MS = 150;

export function bundleTargetKb(name: LambdaFunctionName): number {
  return BUNDLE_TARGETS_KB[name] ?? BUNDLE_TARGET_KB;
}
const INIT_RUNS = 10;

/** Dummy values for what each function validates at start (see functions/lib/env.ts). */
const commonEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  TABLE_NAME: 'followback-bench',
  STAGE: 'bench',
  LOG_LEVEL: 'info',
  POWERTOOLS_METRICS_NAMESPACE: 'Followback',
  // As the stack sets it for source-mapped bundles.
  NODE_OPTIONS: bundling.sourceMap ? '--enable-source-maps' : '',
};
const functionEnv: Record<LambdaFunctionName, Record<string, string>> = {
  'tick-dispatch': {
    ACCOUNT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/account-work',
    TICK_MINUTES: '15',
  },
  'account-worker': {
    VAULT_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    X_API_BASE_URL: 'https://api.x.com',
    WORKER_TIME_MARGIN_MS: '10000',
    X_CLIENT_ID: 'bench',
  },
  'digest-dispatch': {
    DIGEST_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/digest-work',
    AGENCY_NAME: 'Bench',
    SENDER_ADDRESS: 'digest@followback.example.com',
    OPERATOR_EMAIL: 'operator@followback.example.com',
  },
  'digest-worker': {
    SENDER_ADDRESS: 'digest@followback.example.com',
    SES_CONFIGURATION_SET: 'bench',
    AGENCY_NAME: 'Bench',
    OPERATOR_EMAIL: 'operator@followback.example.com',
    APPROVAL_BASE_URL: 'https://approve.example.com/',
    APPROVAL_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
  },
  'approval-page': {
    AGENCY_NAME: 'Bench',
    APPROVAL_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
  },
  console: {
    AGENCY_NAME: 'Bench',
    APPROVAL_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
    VAULT_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    COGNITO_USER_POOL_ID: 'us-east-1_Bench1',
    COGNITO_CLIENT_SECRET_ID: 'followback-bench-console-client',
    COGNITO_DOMAIN: 'https://followback-bench.auth.us-east-1.amazoncognito.com',
  },
};

/** Runs in the child: import the bundle once, print the milliseconds it took. */
const importOnce = `
const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));
`;

interface LambdaFigures {
  name: LambdaFunctionName;
  bundleKb: number;
  zipKb: number;
  initMs: number[];
  parts: BundlePart[];
}

/** How many parts `--explain` prints per bundle. */
const EXPLAIN_PARTS = 15;

export async function measureFunction(
  name: LambdaFunctionName,
  dir: string,
  runs = INIT_RUNS,
): Promise<LambdaFigures> {
  const outfile = join(dir, name, 'index.mjs');
  const { metafile } = await build({ ...esbuildOptionsFor(name, outfile), metafile: true });
  const bytes = (await stat(outfile)).size;
  const zipped = deflateRawSync(await readFile(outfile), { level: 9 }).length;
  const env = { ...process.env, ...commonEnv, ...functionEnv[name] };
  const initMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run$(
      process.execPath,
      ['--input-type=module', '-e', importOnce, pathToFileURL(outfile).href],
      { env, timeout: 30_000 },
    );
    initMs.push(Number(stdout));
  }
  return { name, bundleKb: bytes / 1024, zipKb: zipped / 1024, initMs, parts: bundleParts(metafile) };
}

/** Figure keys use the function name with underscores: `account_worker_bundle_kb`. */
export function figureKey(name: LambdaFunctionName, what: 'bundle_kb' | 'zip_kb' | 'init_ms'): string {
  return `${name.replaceAll('-', '_')}_${what}`;
}

export async function run({ out, progress, explain = false }: BenchOptions): Promise<BenchFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'followback-lambda-bench-'));
  const figures: BenchFigures = {};
  const rows: string[][] = [];
  const explained: string[] = [];
  try {
    for (const name of lambdaFunctionNames) {
      progress(`lambda: bundling ${name} and importing it ${INIT_RUNS} times`);
      const measured = await measureFunction(name, dir);
      const sorted = [...measured.initMs].sort((a, b) => a - b);
      const median = quantile(sorted, 0.5);
      figures[figureKey(name, 'bundle_kb')] = round(measured.bundleKb, 1);
      figures[figureKey(name, 'zip_kb')] = round(measured.zipKb, 1);
      figures[figureKey(name, 'init_ms')] = round(median, 1);
      rows.push([
        name,
        show(measured.bundleKb, 1),
        show(measured.zipKb, 1),
        `${met(measured.bundleKb <= bundleTargetKb(name))} (${bundleTargetKb(name)})`,
        show(median, 1),
        show(sorted[0], 1),
        show(sorted.at(-1), 1),
        met(median <= INIT_TARGET_MS),
      ]);
      if (explain) explained.push(...explainBundle(measured));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  out(
    `Lambda bundles (esbuild ${bundling.target}, ${bundling.format}, minified, AWS SDK bundled) and module init ` +
      `(fresh node ${process.version}, median of ${INIT_RUNS})`,
  );
  for (const line of table(
    [
      'function',
      'bundle KB',
      'deflated KB',
      'within KB target',
      'init ms (median)',
      'min',
      'max',
      `<= ${INIT_TARGET_MS} ms`,
    ],
    rows,
  )) {
    out(line);
  }
  for (const line of explained) out(line);
  return figures;
}

function explainBundle({ name, bundleKb, parts }: LambdaFigures): string[] {
  const rows = parts
    .slice(0, EXPLAIN_PARTS)
    .map(({ part, bytes, largest }) => [
      part,
      show(bytes / 1024, 1),
      `${largest.path.replace(/^.*node_modules\//, '')} (${show(largest.bytes / 1024, 1)})`,
    ]);
  const rest = parts.slice(EXPLAIN_PARTS).reduce((sum, { bytes }) => sum + bytes, 0);
  rows.push([`${parts.length - Math.min(parts.length, EXPLAIN_PARTS)} more`, show(rest / 1024, 1), '']);
  return [
    '',
    `${name} (${show(bundleKb, 1)} KB): biggest parts`,
    ...table(['part', 'KB', 'largest input (KB)'], rows),
  ];
}
