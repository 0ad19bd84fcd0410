/**
 * `npm run bench -- cost`: what one account costs per month, on AWS and on X's API, computed from
 * request counts measured in a simulated month (a tick every 15 minutes through the real use cases,
 * dynalite with a capacity meter, the X sandbox) for accounts of 1k, 10k and 100k followers.
 * Prices are the published on-demand prices (us-east-1, arm64, 2026); the bench prints each line
 * so the model can be checked and re-priced.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { stages } from '../infra/config.ts';
import { attachCapacityMeter } from '../shared/adapters/dynamo/capacity.ts';
import { DynamoStore } from '../shared/adapters/dynamo/store.ts';
import { silentLogger } from '../shared/adapters/logger.ts';
import { resolveObserveSettings } from '../shared/config/observe-settings.ts';
import type { AccountRecord } from '../shared/domain/account.ts';
import { defined } from '../shared/domain/invariant.ts';
import { startLocalDynamo } from '../shared/runtime/local-dynamo.ts';
import { simulate } from '../shared/runtime/simulate.ts';
import { type BenchFigures, type BenchOptions, round, show, table } from './support/bench.ts';
import { startWorld } from './support/worlds.ts';

/** A month, for pricing. */
const DAYS = 30;
/**
 * Days simulated after the connection day, scaled to the month: reads, writes and invocations grow
 * linearly in steady state (the connection's baseline is priced apart, once).
 */
const MEASURED_DAYS = Number(process.env.FOLLOWBACK_COST_DAYS ?? 10);
const TICKS_PER_MONTH = (DAYS * 24 * 60) / 15;

/** Published prices (USD), us-east-1, 2026. */
export const PRICES = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoStorageGbMonth: 0.25,
  sqsRequest: 0.4 / 1e6,
  schedulerInvocation: 1.0 / 1e6,
  kmsRequest: 0.03 / 1e4,
  sesEmail: 0.1 / 1e3,
  logsIngestGb: 0.5,
  xUserRead: 0.01,
  xFollow: 0.015,
  cloudWatchMetricMonth: 0.3,
} as const;

/**
 * The deployment's CloudWatch custom metrics: every metric name its handlers emit (Powertools, one
 * namespace, the service dimension), found in their source. Each costs $0.30 a month whoever uses it.
 */
export function customMetricNames(): string[] {
  const dir = new URL('../functions/handlers/', import.meta.url);
  const middleware = readFileSync(new URL('../functions/lib/middleware.ts', import.meta.url), 'utf8');
  // Powertools' cold-start metric is one more per function (dimensions service and function_name).
  const coldStart = /captureColdStartMetric:\s*true/.test(middleware);
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(new URL(file, dir), 'utf8');
    for (const match of source.matchAll(/(?:addMetric|metric)\(\s*'([A-Za-z]+)'/g))
      names.add(`${file}:${match[1]}`);
  }
  if (coldStart) {
    const entries = new URL('../functions/', import.meta.url);
    for (const file of readdirSync(entries).filter((name) => name.endsWith('.ts'))) {
      if (readFileSync(new URL(file, entries), 'utf8').includes('withObservability('))
        names.add(`${file}:ColdStart`);
    }
  }
  return [...names].sort();
}

/** Deployment facts the model assumes (infra/config.ts defaults). */
const WORKER_MEMORY_GB = stages.prod.worker.memoryMb / 1024;
const DISPATCH_MEMORY_GB = 0.25;
/** Latency per platform request on the real network (loopback here), added to measured compute. */
const PLATFORM_LATENCY_MS = 150;
/** Accounts sharing one deployment's fixed costs (scheduler ticks, dispatcher runs, KMS key). */
const ACCOUNTS_PER_DEPLOYMENT = 100;
const KMS_KEY_MONTH = 1;
/** The dispatcher's query of the account registry each tick: about 1 KB per account, eventually consistent. */
const REGISTRY_BYTES_PER_ACCOUNT = 1_000;
const LOG_BYTES_PER_INVOCATION = 1_500;

interface Size {
  label: string;
  followers: number;
  perDay: number;
  budget: number;
}

const SIZES: Size[] = [
  { label: '1k', followers: 1_000, perDay: 10, budget: 25 },
  { label: '10k', followers: 10_000, perDay: 50, budget: 25 },
  { label: '100k', followers: 100_000, perDay: 500, budget: 300 },
];

interface Measured {
  invocations: number;
  platformRequests: number;
  usersRead: number;
  /** Users X bills (once per app, user and UTC day: the sandbox's billing). */
  usersBilled: number;
  /** Users billed by the connection day (the baseline), once. */
  connectionUsersBilled: number;

  follows: number;
  readUnits: number;
  writeUnits: number;
  computeMs: number;
  storedBytes: number;
  /** Users billed in the measured span by endpoint (the first endpoint to return a user that UTC day pays). */
  billedByEndpoint: Record<string, number>;
  /** Write units by kind of item (STATE, CHG, BASE, TASK…). */
  writeUnitsByKind: Record<string, number>;
  /** Items written by kind. */
  writesByKind: Record<string, number>;
  /** Read units by kind of item read (an index's name for its queries). */
  readUnitsByKind: Record<string, number>;
}

async function measure(size: Size, options: BenchOptions): Promise<Measured> {
  const setup = await startWorld({
    label: size.label,
    followers: size.followers,
    followersPerDay: size.perDay,
    unfollowsPerDay: size.perDay / 10,
    deletionsPerDay: size.followers / 100_000,
    seed: size.followers,
  });
  const dynamo = await startLocalDynamo({ tableName: `cost-${randomBytes(4).toString('hex')}` });
  const meter = attachCapacityMeter(dynamo.client);
  try {
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName, clock: setup.clock });
    const account: AccountRecord = {
      clientId: 'cost',
      accountId: `x-${size.label}`,
      network: 'x',
      platformUserId: setup.owner.id,
      handle: setup.owner.username,
      status: 'active',
      observe: resolveObserveSettings('x', { readBudgetUsdPerMonth: size.budget }),
      // Every new follower is followed back, as if the owner approved them all.
      policy: { mode: 'auto', acknowledgeXAutomationPolicy: true },
      createdAt: setup.clock.now(),
    };
    await store.putAccount(account);
    const measured: Measured = {
      invocations: 0,
      platformRequests: 0,
      usersRead: 0,
      usersBilled: 0,
      connectionUsersBilled: 0,
      follows: 0,
      readUnits: 0,
      writeUnits: 0,
      computeMs: 0,
      storedBytes: 0,
      billedByEndpoint: {},
      writeUnitsByKind: {},
      writesByKind: {},
      readUnitsByKind: {},
    };
    let statsBefore = setup.sandbox.stats.snapshot().totals;
    let endpointsBefore = setup.sandbox.stats.snapshot().endpoints;
    const connectionEnds = setup.clock.now() + 24 * 3_600_000;
    let measuring = false;
    let tickStarted = performance.now();
    await simulate(
      {
        store,
        clock: setup.clock,
        logger: silentLogger,
        platformFor: () => setup.platform,
        accounts: async () => {
          tickStarted = performance.now();
          return [account];
        },
      },
      {
        days: MEASURED_DAYS + 1,
        onTick: (_account, report, at) => {
          if (!measuring && at >= connectionEnds) {
            // The connection day (baseline of both lists) is priced apart; the month starts now.
            measuring = true;
            const now = setup.sandbox.stats.snapshot().totals;
            measured.connectionUsersBilled = now.usersBilled - statsBefore.usersBilled;
            statsBefore = now;
            endpointsBefore = setup.sandbox.stats.snapshot().endpoints;
            meter.reset();
            measured.invocations = 0;
            measured.computeMs = 0;
            measured.follows = 0;
          }
          if (!report.ran) return;
          measured.invocations += 1;
          measured.computeMs += performance.now() - tickStarted;
          measured.follows += report.act.followed + report.act.requested + report.act.alreadyFollowing;
        },
        onDay: (day) => options.progress(`cost ${size.label}: day ${day.day}`),
      },
    );
    const snapshot = setup.sandbox.stats.snapshot();
    const stats = snapshot.totals;
    for (const [endpoint, after] of Object.entries(snapshot.endpoints)) {
      const billed = after.usersBilled - (endpointsBefore[endpoint]?.usersBilled ?? 0);
      if (billed > 0) measured.billedByEndpoint[endpoint] = billed;
    }
    measured.platformRequests = stats.requests - statsBefore.requests;
    measured.usersRead = stats.usersReturned - statsBefore.usersReturned;
    measured.usersBilled = stats.usersBilled - statsBefore.usersBilled;
    measured.readUnits = meter.readUnits;
    measured.writeUnits = Math.max(meter.writeUnits, meter.estimatedWriteUnits);
    for (const [kind, written] of meter.writesByKind) {
      measured.writeUnitsByKind[kind] = written.units;
      measured.writesByKind[kind] = written.items;
    }
    for (const [kind, read] of meter.readsByKind) measured.readUnitsByKind[kind] = read.units;
    measured.storedBytes = await tableBytes(dynamo.client, dynamo.tableName);
    return measured;
  } finally {
    meter.detach();
    await dynamo.close();
    await setup.close();
  }
}

async function tableBytes(client: import('@aws-sdk/client-dynamodb').DynamoDBClient, tableName: string) {
  const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
  const { itemSize } = await import('../shared/adapters/dynamo/capacity.ts');
  let bytes = 0;
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) bytes += itemSize(item) + 100;
    start = page.LastEvaluatedKey;
  } while (start);
  return bytes;
}

/** The measured span's counts scaled to a month. */
function monthly(m: Measured): Measured {
  const k = DAYS / MEASURED_DAYS;
  return {
    ...m,
    invocations: m.invocations * k,
    platformRequests: m.platformRequests * k,
    usersRead: m.usersRead * k,
    usersBilled: m.usersBilled * k,
    follows: m.follows * k,
    billedByEndpoint: scaled(m.billedByEndpoint, k),
    writeUnitsByKind: scaled(m.writeUnitsByKind, k),
    writesByKind: scaled(m.writesByKind, k),
    readUnitsByKind: scaled(m.readUnitsByKind, k),
    readUnits: m.readUnits * k,
    writeUnits: m.writeUnits * k,
    computeMs: m.computeMs * k,
  };
}

function scaled(counts: Record<string, number>, k: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, n * k]));
}

function price(m: Measured) {
  const p = PRICES;
  const workerSeconds = (m.computeMs + m.platformRequests * PLATFORM_LATENCY_MS) / 1000;
  const dispatchShare = TICKS_PER_MONTH / ACCOUNTS_PER_DEPLOYMENT;
  const lambda =
    workerSeconds * WORKER_MEMORY_GB * p.lambdaGbSecondArm +
    (m.invocations + dispatchShare) * p.lambdaRequest +
    dispatchShare * 0.2 * DISPATCH_MEMORY_GB * p.lambdaGbSecondArm;
  // The dispatcher reads each account's state item every tick (strongly consistent, 1 unit).
  // The dispatcher also queries the registry each tick (eventually consistent: 0.5 unit per 4 KB), shared.
  const registryUnits = (TICKS_PER_MONTH * REGISTRY_BYTES_PER_ACCOUNT * ACCOUNTS_PER_DEPLOYMENT) / 8_192;
  const dynamo =
    (m.readUnits + TICKS_PER_MONTH + registryUnits / ACCOUNTS_PER_DEPLOYMENT) * p.dynamoReadUnit +
    m.writeUnits * p.dynamoWriteUnit +
    (m.storedBytes / 1e9) * p.dynamoStorageGbMonth;
  const sqs = m.invocations * 3 * p.sqsRequest;
  const scheduler = ((TICKS_PER_MONTH + DAYS * 24) / ACCOUNTS_PER_DEPLOYMENT) * p.schedulerInvocation;
  const kms = m.invocations * p.kmsRequest + KMS_KEY_MONTH / ACCOUNTS_PER_DEPLOYMENT;
  const ses = 5 * p.sesEmail;
  const logs = ((m.invocations * LOG_BYTES_PER_INVOCATION) / 1e9) * p.logsIngestGb;
  const metrics = (customMetricNames().length * p.cloudWatchMetricMonth) / ACCOUNTS_PER_DEPLOYMENT;
  const aws = lambda + dynamo + sqs + scheduler + kms + ses + logs + metrics;
  // X bills a user once per app and UTC day: the billed users, not every user returned.
  const xReads = m.usersBilled * p.xUserRead;
  const xFollows = m.follows * p.xFollow;
  return { lambda, dynamo, sqs, scheduler, kms, ses, logs, metrics, aws, xReads, xFollows };
}

export async function run(options: BenchOptions): Promise<BenchFigures> {
  const figures: BenchFigures = {};
  const rows: string[][] = [];
  const results: Array<{ size: Size; m: Measured; c: ReturnType<typeof price> }> = [];
  for (const size of SIZES) {
    options.progress(`cost: simulating a month of a ${size.label}-follower account…`);
    const m = monthly(await measure(size, options));
    results.push({ size, m, c: price(m) });
  }
  const money = (v: number) => `$${v < 0.01 ? v.toFixed(4) : v.toFixed(2)}`;
  const line = (name: string, pick: (r: (typeof results)[number]) => string) => [name, ...results.map(pick)];
  rows.push(line('new followers a day', (r) => show(r.size.perDay)));
  rows.push(line('worker invocations', (r) => show(r.m.invocations)));
  rows.push(line('X requests', (r) => show(r.m.platformRequests)));
  rows.push(line('X users read', (r) => show(r.m.usersRead)));
  rows.push(line('X users billed (once a UTC day)', (r) => show(r.m.usersBilled)));
  const endpoints = [...new Set(results.flatMap((r) => Object.keys(r.m.billedByEndpoint)))].sort();
  for (const endpoint of endpoints) {
    rows.push(line(`  billed by ${endpoint}`, (r) => show(r.m.billedByEndpoint[endpoint] ?? 0)));
  }
  rows.push(line('follow-backs', (r) => show(r.m.follows)));
  rows.push(line('DynamoDB read / write units', (r) => `${show(r.m.readUnits)} / ${show(r.m.writeUnits)}`));
  const kinds = [...new Set(results.flatMap((r) => Object.keys(r.m.writeUnitsByKind)))].sort();
  for (const kind of kinds) {
    rows.push(
      line(
        `  write units / items, ${kind}`,
        (r) => `${show(r.m.writeUnitsByKind[kind] ?? 0)} / ${show(r.m.writesByKind[kind] ?? 0)}`,
      ),
    );
  }
  const readKinds = [...new Set(results.flatMap((r) => Object.keys(r.m.readUnitsByKind)))].sort();
  for (const kind of readKinds) {
    rows.push(line(`  read units, ${kind}`, (r) => show(r.m.readUnitsByKind[kind] ?? 0)));
  }
  rows.push(line('stored (KB)', (r) => show(r.m.storedBytes / 1024)));
  for (const key of ['lambda', 'dynamo', 'sqs', 'scheduler', 'kms', 'ses', 'logs', 'metrics'] as const) {
    rows.push(line(`  AWS ${key}`, (r) => money(r.c[key])));
  }
  rows.push(line('AWS per account-month', (r) => money(r.c.aws)));
  rows.push(line('X reads per month', (r) => money(r.c.xReads)));
  rows.push(line('X follows per month', (r) => money(r.c.xFollows)));
  rows.push(
    line('X connection (baseline, once)', (r) => money(r.m.connectionUsersBilled * PRICES.xUserRead)),
  );
  options.out(
    `One account-month (${MEASURED_DAYS} simulated days after the connection day, scaled to ${DAYS}; ticks every 15 min; ` +
      'X in auto mode = every vetted follower followed back; default observe settings)',
  );
  for (const text of table(['', ...results.map((r) => `${r.size.label} followers`)], rows)) options.out(text);
  const at1k = defined(results[0], 'the result at 1k followers').c;
  const at10k = defined(results[1], 'the result at 10k followers').c;
  options.out(
    `Target: AWS ≤ $0.05 per account-month at 10k: ${at10k.aws <= 0.05 ? 'yes' : 'NO'}. ` +
      `Lambda time = measured compute + ${PLATFORM_LATENCY_MS} ms per X request; fixed costs shared by ${ACCOUNTS_PER_DEPLOYMENT} accounts ` +
      `(${customMetricNames().length} CloudWatch custom metrics at $${PRICES.cloudWatchMetricMonth}, the registry query per tick; ` +
      'base rewrites are in the measured write units).',
  );
  options.out(
    `Targets: X reads ≤ $5 at 1k: ${at1k.xReads <= 5 ? 'yes' : 'NO'}; ≤ $17 at 10k: ${at10k.xReads <= 17 ? 'yes' : 'NO'}.`,
  );
  for (const r of results) {
    figures[`aws_usd_${r.size.label}`] = round(r.c.aws, 4);
    figures[`x_read_usd_${r.size.label}`] = round(r.c.xReads, 2);
    figures[`x_reads_usd_${r.size.label}`] = round(r.c.xReads, 2);
    figures[`x_connection_usd_${r.size.label}`] = round(r.m.connectionUsersBilled * PRICES.xUserRead, 2);
    figures[`aws_metrics_usd_${r.size.label}`] = round(r.c.metrics, 4);
    figures[`x_follow_usd_${r.size.label}`] = round(r.c.xFollows, 2);
    figures[`worker_invocations_${r.size.label}`] = r.m.invocations;
  }
  return figures;
}
